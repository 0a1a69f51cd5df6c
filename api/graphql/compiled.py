"""A compiled execution path for the hot queries: timelines built straight from their rows.

graphql-core executes a 50-entry timeline page field by field: a resolver call and a type
completion for each of about 700 values, which costs more than reading the page. This module
answers the operations it covers without that: the document is the one already parsed and
validated (cached by its text), the fields a request selects are collected once per level
with graphql-core's own `collect_fields` (fragments, `@include`/`@skip`, variables, aliases,
merged selections), their arguments coerced by graphql-core's `get_argument_values`, and
every entry of the page is made by one list of (response key, getter) pairs built for that
selection, reading the read model's documents directly. What is built from the document is
kept for the next request of the same text and plan-shaping variable values
(`api.graphql.plans`).

It covers queries whose top-level fields are `countryTimeline`, `weaponTimeline`,
`decision`, `treaty` and `__typename`, with any selection of the connection, edges, page
info, entries, their dates and weapons; of a decision, its fields, dates, officials, weapons,
sources, history and relations (`reverses`, `reversedBy`, ..., nested), each relation and
the history read once per level for all the decisions of that level, as the ordinary
loaders batch them; of a treaty, its fields, dates, sources, `parties` and `partyCount`.
Text in another language (`headline(lang:)`, `name(lang:)`, ... with a language),
`minPosition`, an unknown treaty (an error), statements, compliance flags, translations,
standings and signatories are left to ordinary execution. Anything else (other fields,
introspection, mutations, subscriptions, a document not yet validated) returns None and the
caller executes
the operation the ordinary way, as it does whenever anything here raises: every error,
refused argument and limit is reported by ordinary execution, so errors are always exactly
its errors. `tests/test_compiled_properties.py` compares both paths' answers byte for byte.

Answers are made in a worker thread, except on PostgreSQL an operation of `decision` fields
whose plans are already kept: its one statement per decision is awaited on the event loop
(`projections.readmodels.loopreads`) and its answer built there, which costs the server
less than the hand-over to a thread and back (`CompiledPath._on_loop`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import operator
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any, cast

import orjson
from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_fields, collect_subfields
from graphql.execution.executor import Executor
from graphql.execution.values import get_argument_values
from sqlalchemy import Engine
from strawberry.types import ExecutionResult

from api.graphql.plans import Plans
from api.graphql.sources import parse_datetime
from api.graphql.types import MembershipStatus, TimelineRole
from api.http.limits import ArgumentCheck
from api.text.display import display_edtf
from domain.dates import FuzzyDate
from domain.decision import sort_date
from domain.values import Action, Certainty, DecisionStatus
from projections.readmodels.arguments import check_category, check_country, check_record
from projections.readmodels.bundled import (
    HISTORY,
    PartySpec,
    Read,
    decision_read,
    decision_with,
    parties_json,
    treaty_with,
)
from projections.readmodels.loopreads import LoopConnections
from projections.readmodels.pagejson import JsonPage, Spec, timeline_json
from projections.readmodels.queries import Page, ReadModel, encode_cursor, timeline_query

PLANS = 256
"""Operations whose coverage is remembered (LRU), as many as the documents validated."""

RELATIONS: dict[str, tuple[str, bool]] = {
    "reverses": ("reverses", False),
    "reversedBy": ("reverses", True),
    "departsFrom": ("departsFrom", False),
    "departedFromBy": ("departsFrom", True),
    "supersedes": ("supersedes", False),
    "supersededBy": ("supersedes", True),
    "implements": ("implements", False),
    "implementedBy": ("implements", True),
}
"""Decision's relation fields: (relation, inverse), as the ordinary resolvers read them."""

COVERED: dict[str, frozenset[str]] = {
    "Query": frozenset({"countryTimeline", "weaponTimeline", "decision", "treaty", "__typename"}),
    "TimelineConnection": frozenset({"edges", "pageInfo", "__typename"}),
    "TimelineEdge": frozenset({"cursor", "node", "__typename"}),
    "PageInfo": frozenset(
        {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}
    ),
    "TimelineEntry": frozenset(
        {
            "decisionId",
            "certainty",
            "action",
            "actor",
            "recipient",
            "treaty",
            "weapons",
            "date",
            "role",
            "status",
            "position",
            "recordedAt",
            "headline",
            "scope",
            "__typename",
        }
    ),
    "FuzzyDate": frozenset(
        {"edtf", "precision", "earliest", "latest", "uncertain", "approximate", "display"}
        | {"__typename"}
    ),
    "WeaponRef": frozenset({"system", "category", "__typename"}),
    "Decision": frozenset(
        {
            "id",
            "headline",
            "summary",
            "scope",
            "certainty",
            "reportedOn",
            "action",
            "actor",
            "officials",
            "recipient",
            "treaty",
            "weapons",
            "decidedOn",
            "announcedOn",
            "effectiveOn",
            "date",
            "status",
            "sources",
            "history",
            "__typename",
        }
        | set(RELATIONS)
    ),
    "Official": frozenset({"name", "office", "announced", "__typename"}),
    "Source": frozenset(
        {"publisher", "title", "url", "publishedOn", "quote", "retrievedOn", "archiveUrl"}
        | {"__typename"}
    ),
    "HistoryEntry": frozenset(
        {"position", "eventType", "recordedAt", "reason", "keyId", "sources", "fields", "lang"}
        | {"__typename"}
    ),
    "Treaty": frozenset(
        {
            "id",
            "name",
            "shortName",
            "sources",
            "adoptedOn",
            "openedForSignatureOn",
            "entryIntoForceOn",
            "prohibits",
            "parties",
            "partyCount",
            "__typename",
        }
    ),
    "Membership": frozenset({"country", "status", "since", "__typename"}),
}
"""The (type, field) pairs the planner answers; any other field sends the operation to
ordinary execution."""

INT_RANGE = range(-(2**31), 2**31)
DATES = 65_536
"""Dates whose fields are kept serialized (LRU), as many as the EDTF parser keeps."""


class NotReadHere(Exception):
    """A read the event loop does not make: the request is answered in a worker thread."""


class _NoReads:
    """Stands for an engine on the event loop: every read it would make is refused."""

    def connect(self) -> Any:
        raise NotReadHere("read in a worker thread")


_NO_READS: Any = _NoReads()  # in place of a read model's engine


class NotCovered(Exception):
    """This request is for ordinary execution (a field, an argument or a value not covered)."""


Run = Executor[Any]
Getter = Callable[[Any], Any]
Plan = list[tuple[str, Getter]]
Build = Callable[[list[Any], "int | None"], list[Any]]
"""Values for a list of documents, read as of a log position (None: the current ones)."""


class ValidatedDocuments:
    """Query texts that parsed and passed every validation rule of ordinary execution, with
    their documents: the last `size` (LRU). Filled by the schema's prepare extension."""

    def __init__(self, size: int = PLANS) -> None:
        self.size = size
        self.documents: LRUCache[str, DocumentNode] = LRUCache(size)
        self._lock = threading.Lock()  # remembered by validation threads, read by the loop

    def remember(self, query: str, document: DocumentNode) -> None:
        with self._lock:
            self.documents[query] = document

    def get(self, query: str) -> DocumentNode | None:
        with self._lock:
            return self.documents.get(query)


class CompiledPath:
    """Answers covered operations of documents ordinary execution has already validated."""

    def __init__(
        self, schema: GraphQLSchema, validated: ValidatedDocuments, read: Callable[[], Any]
    ) -> None:
        self.schema = schema
        self.read = read  # the read model (store.read), looked up per request
        self.validated = validated
        # Whether the planner covers an operation, by its text and name (not by the document
        # object, whose id a later document may reuse once it is dropped).
        self.covered: LRUCache[tuple[str, str | None], bool] = LRUCache(PLANS)
        # Which of its arguments could hold text no database stores, by the same key.
        self.checks: LRUCache[tuple[str, str | None], ArgumentCheck] = LRUCache(PLANS)
        self._checks_lock = threading.Lock()  # filled and read by the worker threads
        self.plans = Plans(PLANS)
        self.answered = self.declined = 0
        self.spliced = 0  # timelines' edges and treaties' parties PostgreSQL wrote as JSON
        self.on_loop = 0  # answered on the event loop (`_on_loop`)
        self._loop_reads: tuple[Engine, LoopConnections] | None = None
        self._local = threading.local()  # the read model of the request a thread answers
        query = schema.query_type
        assert query is not None
        self.query_type = query

    async def execute(
        self,
        query: str | None,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        *,
        spliced: bool = False,
    ) -> ExecutionResult | None:
        """The operation's answer, or None for ordinary execution to give it.

        With `spliced`, a timeline's `edges` may be an `orjson.Fragment` holding their JSON
        as PostgreSQL wrote it (see `projections.readmodels.pagejson`): for a caller that
        encodes the answer with `html_safe_json_bytes`, whose last step (non-ASCII and
        HTML-significant characters escaped) then covers that text too."""
        # The request's members are whatever JSON the client sent (an object as
        # operationName, a list as variables): anything but their expected types is for
        # ordinary execution to refuse.
        if not (
            isinstance(query, str)
            and (operation_name is None or isinstance(operation_name, str))
            and (variables is None or isinstance(variables, dict))
        ):
            self.declined += 1
            return None
        document = self.validated.get(query)
        if document is None or not self._covers(query, document, operation_name):
            self.declined += 1
            return None
        try:
            data = await self._on_loop(query, document, variables, operation_name)
        except Exception:  # anything at all: answered in a worker thread instead
            data = None
        if data is not None:
            self.answered += 1
            self.on_loop += 1
            return ExecutionResult(data=data, errors=None)
        try:
            result = await asyncio.to_thread(
                self._run, query, document, variables, operation_name, spliced
            )
        except Exception:  # anything at all: ordinary execution answers, errors included
            result = None
        if result is None:
            self.declined += 1
            return None
        self.answered += 1
        return ExecutionResult(data=result, errors=None)

    async def _on_loop(
        self,
        query: str,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> dict[str, Any] | None:
        """The data of the answer made on the event loop, or None for a worker thread to
        make it: an operation of `decision` fields (and `__typename`) whose plans are kept,
        on PostgreSQL. What it does on the loop is light: the variables coerced, the kept
        plans looked up, one statement per decision awaited on a connection of its own
        (`LoopConnections`), its answer built from the rows; a plan that would read more
        than that statement (nested relations) is marked and left to the worker threads."""
        engine = self.read().engine
        if not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
            return None
        prepared = self._prepare(query, document, variables, operation_name)
        if prepared is None:
            return None
        executor, plan = prepared
        fields = None if plan is None else self.plans.get((plan, None))
        if fields is None:
            return None
        wanted: list[tuple[str, Any]] = []
        for key, details in fields.items():
            name = details[0].node.name.value
            if name == "__typename":
                wanted.append((key, None))
                continue
            kept = self.plans.get((plan, key)) if name == "decision" else None
            if kept is None or self.plans.get((plan, key, "loop")) is False:
                return None
            args = get_argument_values(
                self.query_type.fields[name],
                details[0].node,
                executor.variable_values,
                details[0].fragment_variable_values,
            )
            if args.get("minPosition") is not None:
                return None
            wanted.append(
                (key, (kept[0], decision_read(str(args["id"]), args.get("asOf"), kept[1])))
            )
        connections = self._loop_connections(engine)
        data: dict[str, Any] = {}
        for key, item in wanted:
            if item is None:
                data[key] = self.query_type.name
                continue
            build, statement = item
            rows = await connections.rows(statement.text(engine.dialect), statement.values)
            read = ReadModel(_NO_READS, prefetched={})
            doc = statement.found(rows, read.prefetched)
            if doc is None:
                data[key] = None
                continue
            self._local.read, self._local.spliced = read, False
            try:
                data[key] = build([doc], statement.as_of)[0]
            except NotReadHere:
                self.plans.put((plan, key, "loop"), False)
                return None
            except NotCovered:
                return None
            finally:
                del self._local.read, self._local.spliced
        return data

    def _prepare(
        self,
        query: str,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> tuple[Run, Any] | None:
        """The request's executor (its variables coerced) and the key its kept plans go by,
        or None for ordinary execution to answer: an argument holding text no database can
        store, variables refused (ordinary execution says why), or not a query."""
        if self._check(query, document, operation_name).refuses(variables or {}):
            return None
        executor = Executor.build(
            self.schema,
            document,
            raw_variable_values=variables or {},
            operation_name=operation_name,
        )
        if isinstance(executor, list) or executor.operation.operation is not OperationType.QUERY:
            return None
        # What is built from the document (the root fields collected, the selections'
        # plans) is kept for its text, operation and the variables it depends on.
        plan = self.plans.key(
            query, operation_name, executor.operation, executor.fragments, executor.variable_values
        )
        return executor, plan

    def _loop_connections(self, engine: Engine) -> LoopConnections:
        found = self._loop_reads
        if found is None or found[0] is not engine:
            if found is not None:
                found[1].close()
            found = self._loop_reads = (engine, LoopConnections(engine))
        return found[1]

    def close(self) -> None:
        """Close the connections kept for reads on the event loop."""
        if self._loop_reads is not None:
            self._loop_reads[1].close()

    def _covers(self, query: str, document: DocumentNode, operation_name: str | None) -> bool:
        key = (query, operation_name)
        known = self.covered.get(key)
        if known is None:
            known = _covers(self.schema, document, operation_name)
            self.covered[key] = known
        return known

    def _check(
        self, query: str, document: DocumentNode, operation_name: str | None
    ) -> ArgumentCheck:
        key = (query, operation_name)
        with self._checks_lock:
            check = self.checks.get(key)
        if check is None:
            check = ArgumentCheck(document, operation_name)
            with self._checks_lock:
                self.checks[key] = check
        return check

    def _run(
        self,
        query: str,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        spliced: bool = False,
    ) -> dict[str, Any] | None:
        """The data of the answer (in a worker thread), or None when not covered."""
        prepared = self._prepare(query, document, variables, operation_name)
        if prepared is None:
            return None
        executor, plan = prepared
        operation = executor.operation
        fields = None if plan is None else self.plans.get((plan, None))
        if fields is None:
            collected = collect_fields(
                self.schema,
                executor.fragments,
                executor.variable_values,
                self.query_type,
                operation,
            )
            if collected.new_defer_usages or collected.forbidden_directive_instances:
                return None
            fields = collected.grouped_field_set
            if plan is not None:
                self.plans.put((plan, None), fields)
        # Every read of the request on one pooled connection (one checkout and ping).
        with self.read().pinned() as read:
            self._local.read = read
            self._local.spliced = spliced
            try:
                return self._root(executor, fields, plan)
            except NotCovered:
                return None
            finally:
                del self._local.read, self._local.spliced

    def _reader(self) -> Any:
        """The read model of the request this thread is answering."""
        return self._local.read

    def _root(
        self, executor: Run, fields: dict[str, FieldDetailsList], plan: Any
    ) -> dict[str, Any]:
        """The answer's data; `plan` keys the plans kept for this request's shape (None:
        none kept)."""
        data: dict[str, Any] = {}
        for key, details in fields.items():
            name = details[0].node.name.value
            if name == "__typename":
                data[key] = self.query_type.name
                continue
            field = self.query_type.fields[name]
            args = get_argument_values(
                field,
                details[0].node,
                executor.variable_values,
                details[0].fragment_variable_values,
            )
            if args.get("minPosition") is not None:
                raise NotCovered("minPosition waits for the projections")
            if name == "decision":
                part = None if plan is None else (plan, key)
                data[key] = self._decision(executor, field.type, details, args, part)
                continue
            if name == "treaty":
                part = None if plan is None else (plan, key)
                data[key] = self._treaty(executor, field.type, details, str(args["id"]), part)
                continue
            if name == "countryTimeline":
                check_country("country", args["country"])
                kind, ident = "country", args["country"]
            else:
                system, category = args.get("system"), args.get("category")
                if (system is None) == (category is None):
                    raise NotCovered("the resolver refuses it")
                # As the resolver does: an unknown weapon or category is refused (raises).
                if system is not None:
                    check_record(self._reader(), "weapon", "system", system)
                    kind, ident = "system", system
                else:
                    check_category(self._reader(), "category", str(category))
                    kind, ident = "category", category
            actions = args.get("actions")
            first = args.get("first")
            arguments: dict[str, Any] = {
                "first": 20 if first is None else first,
                "after": args.get("after"),
                "from_": args.get("from"),
                "to": args.get("to"),
                "actions": None if actions is None else [_enum_value(a) for a in actions],
                "include_retracted": bool(args.get("includeRetracted")),
                "as_of": args.get("asOf"),
            }
            if self._local.spliced and not actions:
                kept = None if plan is None else (plan, key, "json")
                shaped = self._json_connection(executor, field.type, details, kept)
                if shaped is not None:
                    query = timeline_query(kind, str(ident), **arguments)
                    json_page = timeline_json(self._reader(), query, shaped[1])
                    if json_page is not None:
                        data[key] = self._spliced(shaped, json_page)
                        self.spliced += 1
                        continue
            page: Page = self._reader().timeline(kind, str(ident), **arguments)
            data[key] = self._connection(executor, field.type, details, page)
        return data

    def _decision(
        self,
        executor: Run,
        type_: Any,
        details: FieldDetailsList,
        args: dict[str, Any],
        part: Any = None,
    ) -> dict[str, Any] | None:
        """`decision(id:, asOf:)`: null when there is no such decision (as ordinary). Its
        plan is kept under `part` (when not None)."""
        ident, as_of = str(args["id"]), args.get("asOf")
        kept = None if part is None else self.plans.get(part)
        if kept is None:
            planned: list[Read] = []
            kept = (self._decisions(executor, type_, details, planned), tuple(planned))
            if part is not None:
                self.plans.put(part, kept)
        build, reads = kept
        # The decision and what its answer reads next for it (its selected relations, its
        # history), in one statement.
        doc = decision_with(self._reader(), ident, as_of, reads)
        return None if doc is None else build([doc], as_of)[0]

    def _decisions(
        self,
        executor: Run,
        type_: Any,
        details: FieldDetailsList,
        reads: list[Read] | None = None,
    ) -> Build:
        """A function building the selection for a list of decision documents: each relation
        and the history read once for the whole list (as the ordinary loaders batch them).
        `reads` is given the reads it makes for the list's own ids."""
        named, fields = self._sub(executor, type_, details)
        plan: list[tuple[str, Getter | None]] = []
        batched: list[tuple[str, Build]] = []
        reads = [] if reads is None else reads
        for key, inner in fields.items():
            name = inner[0].node.name.value
            field = named.fields.get(name)
            if name == "__typename":
                plan.append((key, _constant(named.name)))
                continue
            assert field is not None
            if name in RELATIONS:
                relation, inverse = RELATIONS[name]
                nested = self._decisions(executor, field.type, inner)
                batched.append((key, self._related(relation, inverse, nested)))
                plan.append((key, None))
                reads.append((relation, inverse))
            elif name == "history":
                batched.append((key, self._history(executor, field.type, inner)))
                plan.append((key, None))
                reads.append(HISTORY)
            elif name in ("headline", "summary", "scope"):
                if _arguments(field, inner, executor).get("lang") is not None:
                    raise NotCovered("a translation is read by the ordinary resolver")
                plan.append((key, _text(name, nullable=name != "headline")))
            elif name in _DECISION_DATES:
                edtf = _DECISION_DATES[name]
                plan.append((key, self._date_getter(executor, field.type, inner, edtf)))
            elif name == "officials":
                official = self._leaf_plan(executor, field.type, inner, _OFFICIAL)
                plan.append((key, _list("officials", official)))
            elif name == "sources":
                source = self._leaf_plan(executor, field.type, inner, _SOURCE)
                plan.append((key, _list("sources", source)))
            elif name == "weapons":
                weapon = self._leaf_plan(executor, field.type, inner, _WEAPON)
                plan.append((key, _weapons(weapon)))
            else:
                plan.append((key, _DECISION[name]))

        def build(docs: list[Any], as_of: int | None) -> list[Any]:
            if not docs:
                return []
            columns = {key: fetch(docs, as_of) for key, fetch in batched}
            return [
                {key: columns[key][i] if get is None else get(doc) for key, get in plan}
                for i, doc in enumerate(docs)
            ]

        return build

    def _related(self, relation: str, inverse: bool, nested: Build) -> Build:
        """For each decision, the decisions it `relation`s (or that `relation` it), in the
        related ids' order, those not visible as of the position left out (as ordinary)."""

        def fetch(docs: list[Any], as_of: int | None) -> list[Any]:
            ids = sorted({doc["id"] for doc in docs})
            related = self._reader().related_decisions(ids, relation, inverse, as_of)
            flat: list[Any] = []
            counts: list[int] = []
            for doc in docs:
                subs = related.get(doc["id"], [])
                flat.extend(subs)
                counts.append(len(subs))
            built = nested(flat, as_of)
            out: list[Any] = []
            at = 0
            for count in counts:
                out.append(built[at : at + count])
                at += count
            return out

        return fetch

    def _history(self, executor: Run, type_: Any, details: FieldDetailsList) -> Build:
        named, fields = self._sub(executor, type_, details)
        plan: list[tuple[str, Callable[[Any, Any], Any]]] = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "__typename":
                plan.append((key, _constant2(named.name)))
            elif name == "sources":
                source = self._leaf_plan(executor, named.fields[name].type, inner, _SOURCE)
                plan.append((key, _step_sources(source)))
            else:
                plan.append((key, _of_row(_STEP[name])))

        def fetch(docs: list[Any], as_of: int | None) -> list[Any]:
            rows = self._reader().history(sorted({doc["id"] for doc in docs}), as_of)
            return [
                [{key: get(row, doc) for key, get in plan} for row in rows.get(doc["id"], [])]
                for doc in docs
            ]

        return fetch

    def _treaty(
        self, executor: Run, type_: Any, details: FieldDetailsList, ident: str, part: Any = None
    ) -> dict[str, Any]:
        """`treaty(id:)`; an unknown id is ordinary execution's error to report. Its plan is
        kept under `part` (when not None)."""
        kept = None if part is None else self.plans.get(part)
        if kept is None:
            kept = self._treaty_plan(executor, type_, details)
            if part is not None:
                self.plans.put(part, kept)
        plan, standings, written = kept
        # The treaty and the standings its parties are read from, in one statement (the
        # parties as JSON written by PostgreSQL, for an answer that splices them).
        spliced = written if self._local.spliced else None
        doc = treaty_with(self._reader(), ident, standings, spliced)
        if doc is None:
            raise NotCovered("an unknown treaty is an error")
        return {key: get(doc) for key, get in plan}

    def _treaty_plan(
        self, executor: Run, type_: Any, details: FieldDetailsList
    ) -> tuple[Plan, tuple[tuple[Any, Any], ...], dict[tuple[Any, Any], PartySpec] | None]:
        """A treaty's selection, the (asOf, validAt) of the standings it reads, and for a
        selection of one `parties` field and no `partyCount`, how the statement may write
        the parties' JSON (`treaty_with`)."""
        named, fields = self._sub(executor, type_, details)
        plan: Plan = []
        standings: list[tuple[Any, Any]] = []
        specs: list[tuple[tuple[Any, Any], PartySpec]] = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            field = named.fields.get(name)
            if name == "__typename":
                plan.append((key, _constant(named.name)))
                continue
            assert field is not None
            if name in ("name", "shortName"):
                if _arguments(field, inner, executor).get("lang") is not None:
                    raise NotCovered("a translation is read by the ordinary resolver")
                plan.append((key, _text(name, nullable=name == "shortName")))
            elif name in _TREATY_DATES:
                edtf = _TREATY_DATES[name]
                plan.append((key, self._date_getter(executor, field.type, inner, edtf)))
            elif name == "sources":
                source = self._leaf_plan(executor, field.type, inner, _SOURCE)
                plan.append((key, _list("sources", source)))
            elif name in ("parties", "partyCount"):
                args = _arguments(field, inner, executor)
                as_of, valid_at = args.get("asOf"), args.get("validAt")
                standings.append((as_of, valid_at))
                if name == "partyCount":
                    plan.append((key, self._party_count(as_of, valid_at)))
                else:
                    member = self._leaf_plan(executor, field.type, inner, _MEMBERSHIP)
                    plan.append((key, self._parties(member, as_of, valid_at)))
                    specs.append(((as_of, valid_at), self._party_spec(executor, field, inner)))
            else:
                plan.append((key, _TREATY[name]))
        written = dict(specs) if len(specs) == len(standings) == 1 else None
        return plan, tuple(standings), written

    def _party_spec(self, executor: Run, field: Any, details: FieldDetailsList) -> PartySpec:
        """A party's selection as `treaty_with` writes it: what `_MEMBERSHIP` answers."""
        named, fields = self._sub(executor, field.type, details)
        spec: list[tuple[str, str, Any]] = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "__typename":
                spec.append((key, "const", named.name))
            elif name == "status":
                spec.append((key, "status", _names(MembershipStatus)))
            else:  # country, since
                spec.append((key, name, None))
        return tuple(spec)

    def _parties(self, member: Plan, as_of: Any, valid_at: Any) -> Getter:
        def get(doc: Any) -> Any:
            if self._local.spliced:  # the statement may have written them
                text = parties_json(self._reader(), str(doc["id"]), as_of, valid_at)
                if text is not None:
                    self.spliced += 1
                    return orjson.Fragment(text)
            rows = self._reader().parties(str(doc["id"]), as_of=as_of, valid_at=valid_at)
            # A party is bound: its `since` is always known (the ordinary resolver's filter).
            return [{k: v(r) for k, v in member} for r in rows if r["since"] is not None]

        return get

    def _party_count(self, as_of: Any, valid_at: Any) -> Getter:
        def get(doc: Any) -> int:
            rows = self._reader().parties(str(doc["id"]), as_of=as_of, valid_at=valid_at)
            return _int(len(rows))

        return get

    def _sub(self, executor: Run, type_: Any, details: FieldDetailsList) -> tuple[
        GraphQLObjectType, dict[str, FieldDetailsList]
    ]:  # fmt: skip
        named = get_named_type(type_)
        assert isinstance(named, GraphQLObjectType)
        collected = collect_subfields(
            self.schema, executor.fragments, executor.variable_values, executor.operation,
            named, details,
        )  # fmt: skip
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            raise NotCovered("@defer")
        return named, collected.grouped_field_set

    def _connection(
        self, executor: Run, type_: Any, details: FieldDetailsList, page: Page
    ) -> dict[str, Any]:
        named, fields = self._sub(executor, type_, details)
        out: dict[str, Any] = {}
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "__typename":
                out[key] = named.name
            elif name == "edges":
                out[key] = self._edges(executor, named.fields[name].type, inner, page)
            else:  # pageInfo
                out[key] = self._page_info(executor, named.fields[name].type, inner, page)
        return out

    def _page_info(
        self, executor: Run, type_: Any, details: FieldDetailsList, page: Page | JsonPage
    ) -> dict[str, Any]:
        named, fields = self._sub(executor, type_, details)
        return _page_info(named.name, [(k, d[0].node.name.value) for k, d in fields.items()], page)

    def _json_connection(
        self, executor: Run, type_: Any, details: FieldDetailsList, part: Any
    ) -> JsonConnection | None:
        """A connection's selection with its edges as PostgreSQL writes them: (its fields,
        the edges' spec, the slots' date selections), or None where it selects `edges` more
        than once (the Python path answers). Kept under `part` (when not None)."""
        kept = None if part is None else self.plans.get(part)
        if kept is not None:
            return None if kept is _NO_JSON else cast(JsonConnection, kept)
        named, fields = self._sub(executor, type_, details)
        shape: list[tuple[str, str, Any]] = []
        spec: Spec | None = None
        slots: list[DateSelection] = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "edges":
                if spec is not None:
                    spec = None
                    break
                spec = self._edge_spec(executor, named.fields[name].type, inner, slots)
                shape.append((key, name, None))
            elif name == "pageInfo":
                info, info_fields = self._sub(executor, named.fields[name].type, inner)
                selection = [(k, d[0].node.name.value) for k, d in info_fields.items()]
                shape.append((key, name, (info.name, selection)))
            else:  # __typename
                shape.append((key, name, named.name))
        found: JsonConnection | None = None
        if spec is not None:
            found = (tuple(shape), spec, tuple(slots))
        if part is not None:
            self.plans.put(part, _NO_JSON if found is None else found)
        return found

    def _edge_spec(
        self, executor: Run, type_: Any, details: FieldDetailsList, slots: list[DateSelection]
    ) -> Spec:
        named, fields = self._sub(executor, type_, details)
        spec: list[tuple[str, str, Any]] = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "__typename":
                spec.append((key, "const", f'"{named.name}"'))
            elif name == "cursor":
                spec.append((key, "cursor", None))
            else:  # node
                entry = self._entry_spec(executor, named.fields[name].type, inner, slots)
                spec.append((key, "node", entry))
        return tuple(spec)

    def _entry_spec(
        self, executor: Run, type_: Any, details: FieldDetailsList, slots: list[DateSelection]
    ) -> Spec:
        """An entry's selection as `pagejson` writes it: what `_entry_plan` answers."""
        named, fields = self._sub(executor, type_, details)
        spec: list[tuple[str, str, Any]] = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            field = named.fields.get(name)
            if name == "__typename":
                spec.append((key, "const", f'"{named.name}"'))
            elif name in ("headline", "scope"):
                assert field is not None
                if _arguments(field, inner, executor).get("lang") is not None:
                    raise NotCovered("a translation is read by the ordinary resolver")
                spec.append((key, "string", (name, name == "scope")))
            elif name == "weapons":
                assert field is not None
                weapon, weapon_fields = self._sub(executor, field.type, inner)
                item: list[tuple[str, str, Any]] = []
                for k, d in weapon_fields.items():
                    leaf = d[0].node.name.value
                    if leaf == "__typename":
                        item.append((k, "const", f'"{weapon.name}"'))
                    else:
                        item.append((k, "string", (leaf, leaf == "system")))
                spec.append((key, "list", ("weapons", tuple(item))))
            elif name == "date":
                assert field is not None
                date, date_fields = self._sub(executor, field.type, inner)
                selection: list[tuple[str, str, str | None]] = []
                for k, d in date_fields.items():
                    leaf = d[0].node.name.value
                    lang = None
                    if leaf == "display":
                        lang = _arguments(date.fields[leaf], d, executor).get("lang") or "en"
                    selection.append((k, leaf, lang))
                slots.append(tuple(selection))
                spec.append((key, "slot", "date"))
            elif name in _ENTRY_SPEC:
                spec.append((key, *_ENTRY_SPEC[name]))
            else:
                raise NotCovered(name)
        return tuple(spec)

    def _spliced(self, shaped: JsonConnection, page: JsonPage) -> dict[str, Any]:
        """The connection's answer, its edges the text PostgreSQL wrote (dates filled in)."""
        shape, _spec, slots = shaped
        out: dict[str, Any] = {}
        for key, name, argument in shape:
            if name == "edges":
                out[key] = orjson.Fragment(_edges_text(page.edges, slots))
            elif name == "pageInfo":
                out[key] = _page_info(argument[0], argument[1], page)
            else:
                out[key] = argument
        return out

    def _edges(
        self, executor: Run, type_: Any, details: FieldDetailsList, page: Page
    ) -> list[dict[str, Any]]:
        named, fields = self._sub(executor, type_, details)
        plan: list[tuple[str, Getter]] = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "__typename":
                plan.append((key, _constant(named.name)))
            elif name == "cursor":
                plan.append((key, _item(0)))
            else:  # node
                node_plan = self._entry_plan(executor, named.fields[name].type, inner)
                plan.append((key, _nested(_item(1), node_plan)))
        return [
            {key: get(pair) for key, get in plan}
            for pair in zip(page.cursors, page.entries, strict=False)
        ]

    def _entry_plan(self, executor: Run, type_: Any, details: FieldDetailsList) -> Plan:
        named, fields = self._sub(executor, type_, details)
        plan: Plan = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            field = named.fields.get(name)
            if name == "__typename":
                plan.append((key, _constant(named.name)))
            elif name in ("headline", "scope"):
                assert field is not None
                args = get_argument_values(
                    field,
                    inner[0].node,
                    executor.variable_values,
                    inner[0].fragment_variable_values,
                )
                if args.get("lang") is not None:
                    raise NotCovered("a translation is read by the ordinary resolver")
                plan.append((key, _text(name, nullable=name == "scope")))
            elif name == "weapons":
                assert field is not None
                weapon_plan = self._leaf_plan(executor, field.type, inner, _WEAPON)
                plan.append((key, _weapons(weapon_plan)))
            elif name == "date":
                assert field is not None
                plan.append((key, self._date_getter(executor, field.type, inner)))
            else:
                plan.append((key, self._entry_leaf(name)))
        return plan

    def _entry_leaf(self, name: str) -> Getter:
        if name in _ENTRY:
            return _ENTRY[name]
        raise NotCovered(name)

    def _leaf_plan(
        self,
        executor: Run,
        type_: Any,
        details: FieldDetailsList,
        getters: dict[str, Getter],
    ) -> Plan:
        named, fields = self._sub(executor, type_, details)
        plan: Plan = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            plan.append((key, _constant(named.name) if name == "__typename" else getters[name]))
        return plan

    def _date_getter(
        self,
        executor: Run,
        type_: Any,
        details: FieldDetailsList,
        edtf_of: Callable[[Any], str | None] = lambda doc: doc["date"]["edtf"],
    ) -> Getter:
        """A FuzzyDate's selection; None (null) where the document has no such date, unless
        the field is non-null (an entry's date: ordinary execution's error)."""
        nullable = not isinstance(type_, GraphQLNonNull)
        named, fields = self._sub(executor, type_, details)
        plan: Plan = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "__typename":
                plan.append((key, _constant(named.name)))
            elif name == "display":
                args = _arguments(named.fields[name], inner, executor)
                plan.append((key, _display(args.get("lang") or "en")))
            else:
                plan.append((key, _DATE[name]))

        def get(doc: dict[str, Any]) -> dict[str, Any] | None:
            edtf = edtf_of(doc)
            if edtf is None:
                if not nullable:
                    raise NotCovered("null for a non-null field: ordinary execution reports it")
                return None
            date = _date(edtf)
            return {key: value(date) for key, value in plan}

        return get


def _arguments(field: Any, details: FieldDetailsList, executor: Run) -> dict[str, Any]:
    """The field's arguments as graphql-core coerces them (the first node's, as it does)."""
    first = details[0]
    return get_argument_values(
        field, first.node, executor.variable_values, first.fragment_variable_values
    )


def _display(lang: str) -> Getter:
    return lambda date: display_edtf(date["edtf"], lang)


@functools.lru_cache(maxsize=DATES)
def _date(edtf: str) -> dict[str, Any]:
    """A FuzzyDate's fields as graphql-core serializes them (the type's values, by name)."""
    d = FuzzyDate(edtf)
    return {
        "edtf": d.edtf,
        "precision": d.precision.name,
        "earliest": d.earliest.isoformat(),
        "latest": d.latest.isoformat(),
        "uncertain": bool(d.uncertain),
        "approximate": bool(d.approximate),
    }


def _enum_value(value: Any) -> str:
    """An argument's enum value as the read model takes it (the member's value)."""
    return str(getattr(value, "value", value))


DateSelection = tuple[tuple[str, str, "str | None"], ...]
"""A FuzzyDate's selection: (response key, field, language of `display`)."""
JsonConnection = tuple[tuple[tuple[str, str, Any], ...], Spec, tuple[DateSelection, ...]]
_NO_JSON = object()
"""Kept for a connection whose edges the Python path answers."""


def _page_info(
    type_name: str, selection: list[tuple[str, str]], page: Page | JsonPage
) -> dict[str, Any]:
    keys = page.keys
    values: dict[str, Any] = {
        "__typename": type_name,
        "hasNextPage": page.has_next,
        "hasPreviousPage": page.has_previous,
        "startCursor": encode_cursor(*keys[0]) if keys else None,
        "endCursor": encode_cursor(*keys[-1]) if keys else None,
    }
    return {key: values[name] for key, name in selection}


def _edges_text(edges: list[tuple[str, ...]], slots: tuple[DateSelection, ...]) -> str:
    """The edges' JSON: each edge's text with its dates written into its slots."""
    if not slots:
        return "[" + ",".join([parts[0] for parts in edges]) + "]"
    rows = []
    for parts in edges:
        out = [parts[0]]
        for number, selection in enumerate(slots):
            out.append(_date_json(selection, parts[2 * number + 1]))
            out.append(parts[2 * number + 2])
        rows.append("".join(out))
    return "[" + ",".join(rows) + "]"


@functools.lru_cache(maxsize=DATES)
def _date_json(selection: DateSelection, edtf: str) -> str:
    """An entry's date's selection written as orjson writes it, from its EDTF as JSON text,
    as `_date_getter` answers it (an entry's date is non-null)."""
    value = orjson.loads(edtf)
    if value is None:
        raise NotCovered("null for a non-null field: ordinary execution reports it")
    date = _date(value)
    out = {
        key: "FuzzyDate"
        if name == "__typename"
        else display_edtf(date["edtf"], lang or "en")
        if name == "display"
        else date[name]
        for key, name, lang in selection
    }
    return orjson.dumps(out).decode()


def _constant(value: Any) -> Getter:
    return lambda _source: value


def _item(index: int) -> Getter:
    return lambda source: source[index]


def _nested(outer: Getter, plan: Plan) -> Getter:
    def get(source: Any) -> dict[str, Any]:
        inner = outer(source)
        return {key: value(inner) for key, value in plan}

    return get


def _non_null(value: Any) -> Any:
    if value is None:
        raise NotCovered("null for a non-null field: ordinary execution reports it")
    return value


def _text(name: str, *, nullable: bool) -> Getter:
    if nullable:
        return lambda doc: _string(doc.get(name))
    return lambda doc: _string(_non_null(doc[name]))


def _string(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    raise NotCovered("not a string")


def _int(value: Any) -> int:
    if type(value) is not int or value not in INT_RANGE:
        raise NotCovered("not a 32-bit integer")
    return value


def _weapons(plan: Plan) -> Getter:
    def get(doc: dict[str, Any]) -> list[dict[str, Any]]:
        return [{key: value(w) for key, value in plan} for w in doc["weapons"]]

    return get


def _enum(kind: type[Enum]) -> Callable[[Any], str]:
    """The GraphQL name of the member with this value (what graphql-core serializes)."""
    names = {member.value: member.name for member in kind}

    def name(value: Any) -> str:
        found = names.get(value)
        return found if found is not None else kind(value).name  # raises as the type does

    return name


_certainty, _action = _enum(Certainty), _enum(Action)
_role, _status = _enum(TimelineRole), _enum(DecisionStatus)
_ENTRY: dict[str, Getter] = {
    "decisionId": lambda doc: _string(_non_null(doc["decisionId"])),
    "certainty": lambda doc: _certainty(doc.get("certainty", "OFFICIAL")),
    "action": lambda doc: _action(doc["action"]),
    "actor": lambda doc: _string(_non_null(doc["actor"])),
    "recipient": lambda doc: _string(doc.get("recipient")),
    "treaty": lambda doc: _string(doc.get("treaty")),
    "role": lambda doc: _role(doc.get("role") or "ACTOR"),
    "status": lambda doc: _status(doc["status"]),
    "position": lambda doc: _int(doc["position"]),
    "recordedAt": lambda doc: parse_datetime(doc["recordedAt"]).isoformat(),
}


def _names(kind: type[Enum]) -> tuple[tuple[str, str], ...]:
    """(value, GraphQL name) of each member (what `_enum` maps)."""
    return tuple((member.value, member.name) for member in kind)


_ENTRY_SPEC: dict[str, tuple[str, Any]] = {
    "decisionId": ("string", ("decisionId", False)),
    "certainty": ("enum", ("certainty", _names(Certainty), "OFFICIAL", None)),
    "action": ("enum", ("action", _names(Action), None, None)),
    "actor": ("string", ("actor", False)),
    "recipient": ("string", ("recipient", True)),
    "treaty": ("string", ("treaty", True)),
    "role": ("enum", ("role", _names(TimelineRole), "ACTOR", "ACTOR")),
    "status": ("enum", ("status", _names(DecisionStatus), None, None)),
    "position": ("int32", "position"),
    "recordedAt": ("timestamp", "recordedAt"),
}
"""What `pagejson` writes for each of `_ENTRY`'s fields, as `_ENTRY` answers them."""


_WEAPON: dict[str, Getter] = {
    "system": lambda w: _string(w.get("system")),
    "category": lambda w: _string(_non_null(w["category"])),
}
_DATE: dict[str, Getter] = {name: operator.itemgetter(name) for name in _date("2000")}
_membership = _enum(MembershipStatus)


def _constant2(value: Any) -> Callable[[Any, Any], Any]:
    return lambda _row, _doc: value


def _of_row(get: Getter) -> Callable[[Any, Any], Any]:
    return lambda row, _doc: get(row)


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise NotCovered("not a boolean")
    return value


def _list(name: str, plan: Plan) -> Getter:
    """A list of objects a document holds under `name` (absent: empty, as ordinary)."""

    def get(doc: dict[str, Any]) -> list[dict[str, Any]]:
        return [{key: value(item) for key, value in plan} for item in doc.get(name) or []]

    return get


def _step_sources(plan: Plan) -> Callable[[Any, Any], Any]:
    """A history step's sources: its own, or the decision's when it has none (as ordinary)."""

    def get(row: Any, doc: Any) -> list[dict[str, Any]]:
        sources = row["sources"]
        items = (doc.get("sources") or []) if sources is None else sources
        return [{key: value(item) for key, value in plan} for item in items]

    return get


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [_string(_non_null(v)) for v in value]


def _sort_edtf(doc: dict[str, Any]) -> str:
    return sort_date(doc).edtf


_DECISION: dict[str, Getter] = {
    "id": lambda doc: _string(_non_null(doc["id"])),
    "certainty": _ENTRY["certainty"],
    "action": _ENTRY["action"],
    "actor": _ENTRY["actor"],
    "recipient": _ENTRY["recipient"],
    "treaty": lambda doc: _string(doc.get("treaty") or None),
    "status": _ENTRY["status"],
}
_DECISION_DATES: dict[str, Callable[[Any], str | None]] = {
    "reportedOn": lambda doc: doc.get("reportedOn"),
    "decidedOn": lambda doc: doc.get("decidedOn"),
    "announcedOn": lambda doc: doc.get("announcedOn"),
    "effectiveOn": lambda doc: doc.get("effectiveOn"),
    "date": _sort_edtf,
}
_OFFICIAL: dict[str, Getter] = {
    "name": lambda o: _string(_non_null(o["name"])),
    "office": lambda o: _string(o.get("office")),
    "announced": lambda o: _bool(o.get("announced", False)),
}
_SOURCE: dict[str, Getter] = {
    "publisher": lambda s: _string(_non_null(s["publisher"])),
    "title": lambda s: _string(s.get("title")),
    "url": lambda s: _string(s.get("url")),
    "publishedOn": lambda s: _string(s.get("publishedOn")),
    "quote": lambda s: _string(s.get("quote")),
    "retrievedOn": lambda s: _string(s.get("retrievedOn")),
    "archiveUrl": lambda s: _string(s.get("archiveUrl")),
}
_STEP: dict[str, Getter] = {
    "position": lambda r: _int(r["position"]),
    "eventType": lambda r: _string(_non_null(r["eventType"])),
    "recordedAt": lambda r: parse_datetime(r["recordedAt"]).isoformat(),
    "reason": lambda r: _string(r["reason"]),
    "keyId": lambda r: _string(r["keyId"]),
    "fields": lambda r: _strings(r["fields"]),
    "lang": lambda r: _string(r["translation"]["lang"]) if "translation" in r else None,
}
_TREATY: dict[str, Getter] = {
    "id": lambda doc: _string(_non_null(doc["id"])),
    "prohibits": lambda doc: [_string(_non_null(p)) for p in doc.get("prohibits", [])],
}
_TREATY_DATES: dict[str, Callable[[Any], str | None]] = {
    name: operator.methodcaller("get", name)
    for name in ("adoptedOn", "openedForSignatureOn", "entryIntoForceOn")
}
_MEMBERSHIP: dict[str, Getter] = {
    "country": lambda r: _string(_non_null(r["country"])),
    "status": lambda r: _membership(r["status"]),
    "since": lambda r: _day(r["since"]),
}


def _day(value: Any) -> str:
    if type(value) is not dt.date:
        raise NotCovered("not a date")
    return value.isoformat()


def _covers(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> bool:
    """True when every field the operation could select, whatever its directives say, is one
    the planner answers, and the operation is a query."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        chosen = operations if len(operations) == 1 else []
    else:
        chosen = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    query = schema.query_type
    assert query is not None
    return _selection_covered(schema, query, chosen[0].selection_set, fragments, set())


def _selection_covered(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[tuple[str, str]],
) -> bool:
    allowed = COVERED.get(parent.name)
    if allowed is None:
        return False
    for node in selections.selections:
        if isinstance(node, FieldNode):
            name = node.name.value
            if name not in allowed:
                return False
            if name == "__typename" or node.selection_set is None:
                continue
            child = get_named_type(parent.fields[name].type)
            if not isinstance(child, GraphQLObjectType):
                return False
            if not _selection_covered(schema, child, node.selection_set, fragments, seen):
                return False
        elif isinstance(node, InlineFragmentNode):
            condition = node.type_condition
            if condition is not None and condition.name.value != parent.name:
                return False
            if not _selection_covered(schema, parent, node.selection_set, fragments, seen):
                return False
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is None or fragment.type_condition.name.value != parent.name:
                return False
            mark = (node.name.value, parent.name)
            if mark in seen:
                continue
            seen.add(mark)
            if not _selection_covered(schema, parent, fragment.selection_set, fragments, seen):
                return False
        else:
            return False
    return True
