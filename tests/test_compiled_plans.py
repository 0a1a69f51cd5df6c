"""Which variables a kept plan depends on: all but those only in root fields' arguments."""

from __future__ import annotations

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from api.graphql.plans import plan_variables


def _variables(text: str) -> set[str]:
    document = parse(text)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return set(plan_variables(operation, fragments))


def test_a_root_field_s_arguments_are_read_per_request_and_the_rest_plans() -> None:
    text = """query Q($id: ID!, $asOf: Int, $lang: String, $show: Boolean!, $skip: Boolean!,
        $day: Date, $c: String!, $n: Int) {
      decision(id: $id, asOf: $asOf) @include(if: $show) { date { display(lang: $lang) } }
      ... on Query @skip(if: $skip) { countryTimeline(country: $c, first: $n) { edges {
        cursor } } }
      ...T
    }
    fragment T on Query { treaty(id: $id) { parties(validAt: $day) { country } ...M } }
    fragment M on Treaty { partyCount(asOf: $n) }"""
    assert _variables(text) == {"lang", "show", "skip", "day", "n"}
