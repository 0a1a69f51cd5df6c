"""The GraphQL API (strawberry): schema, types, resolvers, the response cache."""
