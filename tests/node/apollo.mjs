// Apollo Client with its persisted query link (GET for hashed queries) against a server:
// prints the requests it made and what each of two fresh clients got, as JSON.
import { createHash } from "node:crypto";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [url, mode] = process.argv.slice(2);
const requests = [];
const logged = async (input, init = {}) => {
  const response = await fetch(input, init);
  const target = new URL(String(input));
  const body = init.body ? JSON.parse(init.body) : Object.fromEntries(target.searchParams);
  requests.push({ method: init.method ?? "GET", status: response.status, sentQuery: "query" in body });
  return response;
};
const client = () => new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.from([
    new PersistedQueryLink({
      sha256: (text) => createHash("sha256").update(text).digest("hex"),
      useGETForHashedQueries: true,
    }),
    new HttpLink({ uri: url, fetch: logged }),
  ]),
});
const query = gql`query Ukraine($country: String!) { countryTimeline(country: $country, first: 2) { edges { node { decisionId } } } }`;
const results = [];
for (const attempt of [1, 2]) {
  try {
    const { data, error } = await client().query({ query, variables: { country: "UKR" }, errorPolicy: "all" });
    results.push({ attempt, data: data ?? null, error: error ? error.message : null });
  } catch (error) {
    results.push({ attempt, data: null, error: String(error.message ?? error) });
  }
}
console.log(JSON.stringify({ requests, results }));
