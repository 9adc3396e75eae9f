"""The exchanges the fixture scripts under tests/data replay through each peer's SDK (the
weather question with two tool calls, "Say this is a test", the missing model), as a loaded row
must hold them. One copy for every format's exact-value tests."""

from __future__ import annotations

ANSWER = "It is rainy in Paris, 14°C."
TEST = [{"role": "user", "content": "Say this is a test"}]
# The API's 404 message; SDK-made records prefix it with "Error code: 404 - ".
NOT_FOUND = "The model `this-model-does-not-exist` does not exist or you do not have access to it."
SDK_NOT_FOUND = f"Error code: 404 - {NOT_FOUND}"


def tool_calls(separator: str = ": ") -> list[dict]:
    """The two tool calls; `separator` is how the recording SDK wrote the arguments' JSON."""
    args = f'{{"city"{separator}"Paris"}}'
    return [{"id": "call_0001", "type": "function",
             "function": {"name": "get_weather", "arguments": args}},
            {"id": "call_0002", "type": "function",
             "function": {"name": "get_population", "arguments": args}}]  # fmt: skip


def history(calls: list[dict]) -> list[dict]:
    """The messages of the final answer's request: question, tool calls, their results."""
    return [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "content": "rainy, 14°C", "tool_call_id": "call_0001"},
        {"role": "tool", "content": "2.1 million", "tool_call_id": "call_0002"},
    ]


CALLS = tool_calls()
HISTORY = history(CALLS)
# The call columns the exact-value tests compare, row by row.
CALL_COLUMNS = ("model", "model_requested", "input_messages", "output_messages", "input_text",
                "output_text", "params", "tokens_in", "tokens_out", "tokens_cache_read",
                "tokens_reasoning", "cost_source", "status", "error_type",
                "error_message")  # fmt: skip


def pick(row: dict, columns: tuple[str, ...] = CALL_COLUMNS) -> dict:
    return {k: row[k] for k in columns}
