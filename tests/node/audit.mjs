// Runs the GraphQL over HTTP audit suite of graphql-http against a server; prints JSON results.
import { auditServer } from 'graphql-http';

const results = await auditServer({ url: process.argv[2], fetchFn: fetch });
console.log(JSON.stringify(results.map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason ?? null }))));
