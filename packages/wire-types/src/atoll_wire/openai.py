"""OpenAI chat completions wire structs (also spoken by Groq, DeepSeek, Mistral, OpenRouter, ...).

Decoding is lenient: unknown fields are ignored, every field a provider may leave out has a
default, and fields that OpenAI-compatible providers add are kept (``reasoning_content``,
``reasoning``, ``reasoning_details``, content as a list of parts, any ``service_tier`` string,
cached and reasoning token details, OpenRouter's in-chunk ``error``). Encoding omits fields left
at their defaults, so a request holds only what was set.

Decoders are built once at import; use the ``decode_*`` functions on the hot path.

Example:
    >>> chunk = decode_chunk(b'{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}')
    >>> chunk.choices[0].delta.content
    'Hi'
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from ._codec import encode_body

__all__ = (
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatMessage",
    "Choice",
    "ChoiceDelta",
    "ChunkChoice",
    "CompletionTokensDetails",
    "CompletionUsage",
    "ContentPart",
    "Embedding",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "ErrorBody",
    "ErrorObject",
    "FileData",
    "FunctionCall",
    "FunctionCallDelta",
    "FunctionDefinition",
    "ImageUrl",
    "InputAudio",
    "JsonSchemaFormat",
    "Model",
    "ModelList",
    "NamedToolChoice",
    "NamedToolChoiceFunction",
    "PromptTokensDetails",
    "ReasoningDetail",
    "ResponseFormat",
    "StreamOptions",
    "Tool",
    "ToolCall",
    "ToolCallChunk",
    "decode_chunk",
    "decode_completion",
    "decode_embedding_response",
    "decode_error",
    "decode_model_list",
    "decode_request",
    "encode",
)


# gc=False: decoded wire data never forms reference cycles; untracked structs allocate faster.
class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Most wire structs: keyword-only, fields left at their defaults are not encoded."""


class _Full(msgspec.Struct, kw_only=True, gc=False):
    """Structs whose defaulted fields the API requires on the wire: every field is encoded.

    ``type``, ``arguments`` and ``object`` have defaults but must still be sent; None goes out
    as null, as the API itself does.
    """


# ---------------------------------------------------------------- content and messages


class ImageUrl(_Wire, kw_only=True):
    """``image_url`` of an image content part.

    Attributes:
        url: ``https:`` or ``data:`` URL.
        detail: ``low``, ``high`` or ``auto``.
    """

    url: str
    detail: str | None = None


class InputAudio(_Wire, kw_only=True):
    """``input_audio`` of an audio content part.

    Attributes:
        data: Base64 audio.
        format: ``wav``, ``mp3``, ...
    """

    data: str
    format: str


class FileData(_Wire, kw_only=True):
    """``file`` of a file content part (PDF input).

    Attributes:
        file_data: A ``data:`` URL with the file bytes.
        file_id: An uploaded file's id.
        filename: The file name shown to the model.
    """

    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class ContentPart(_Wire, kw_only=True):
    """One part of a list-valued ``content``, request or response.

    One struct for every part type keeps decoding lenient: a part type we do not know still
    decodes, with ``type`` telling what it is.

    Attributes:
        type: ``text``, ``image_url``, ``input_audio``, ``file``, ``refusal``, or Mistral's
            ``thinking``.
        text: Text of a ``text`` part.
        image_url: Image of an ``image_url`` part.
        input_audio: Audio of an ``input_audio`` part.
        file: File of a ``file`` part.
        refusal: Text of a ``refusal`` part.
        thinking: Mistral's reasoning: a list of text parts (or, from some servers, a string).
    """

    type: str
    text: str | None = None
    image_url: ImageUrl | None = None
    input_audio: InputAudio | None = None
    file: FileData | None = None
    refusal: str | None = None
    thinking: list[ContentPart] | str | None = None


class FunctionCall(_Full, kw_only=True):
    """The function of a complete tool call.

    Attributes:
        name: The function name.
        arguments: The argument JSON text exactly as the model wrote it.
    """

    name: str
    arguments: str = ""


class ToolCall(_Full, kw_only=True):
    """A complete tool call in a message.

    Attributes:
        id: The call id (some providers send ``""``).
        type: Always ``function`` today.
        function: Name and arguments.
    """

    function: FunctionCall
    id: str = ""
    type: str = "function"


class ReasoningDetail(_Wire, kw_only=True):
    """One entry of OpenRouter's ``reasoning_details``.

    Attributes:
        type: ``reasoning.text``, ``reasoning.summary`` or ``reasoning.encrypted``.
        text: Reasoning text.
        summary: Reasoning summary.
        data: Encrypted reasoning.
        signature: Signature to send back.
        format: The upstream format, e.g. ``anthropic-claude-v1``.
        index: Position within the details.
        id: An id, when the upstream gives one.
    """

    type: str
    text: str | None = None
    summary: str | None = None
    data: str | None = None
    signature: str | None = None
    format: str | None = None
    index: int | None = None
    id: str | None = None


class ChatMessage(_Wire, kw_only=True):
    """A message, in a request or in a response's choice.

    ``role`` and ``content`` are ``UNSET`` when absent, which differs from null: an assistant
    message with only tool calls may send ``"content": null`` or no content at all, and some
    servers leave ``role`` out of a response's message.

    Attributes:
        role: ``system``, ``developer``, ``user``, ``assistant`` or ``tool``.
        content: Text, a list of parts, or None (assistant messages with only tool calls).
        name: Participant name.
        tool_calls: Calls made by an assistant message.
        tool_call_id: The call a ``tool`` message answers.
        refusal: The model's refusal text.
        reasoning_content: DeepSeek/Z.ai reasoning text.
        reasoning: Groq/OpenRouter/vLLM/Ollama reasoning text.
        reasoning_details: OpenRouter structured reasoning.
        annotations: URL citations and similar, as sent.
        audio: Audio output, as sent.
        prefix: Mistral's assistant prefill flag.
    """

    role: str | UnsetType = UNSET
    content: str | list[ContentPart] | UnsetType | None = UNSET
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    reasoning_details: list[ReasoningDetail] | None = None
    annotations: list[Any] | None = None
    audio: Any = None
    prefix: bool | None = None


# ---------------------------------------------------------------- request


class FunctionDefinition(_Wire, kw_only=True):
    """A function tool's definition.

    Attributes:
        name: The function name.
        description: What it does.
        parameters: JSON Schema of the arguments.
        strict: Enforce the schema exactly.
    """

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Full, kw_only=True):
    """A tool in the request.

    Attributes:
        function: The function definition.
        type: Always ``function`` today.
    """

    function: FunctionDefinition
    type: str = "function"


class NamedToolChoiceFunction(_Wire, kw_only=True):
    """The function a named tool choice points at.

    Attributes:
        name: The function name.
    """

    name: str


class NamedToolChoice(_Full, kw_only=True):
    """``tool_choice`` forcing one function.

    Attributes:
        function: The function to call.
        type: Always ``function``.
    """

    function: NamedToolChoiceFunction
    type: str = "function"


class JsonSchemaFormat(_Wire, kw_only=True):
    """``response_format.json_schema``.

    Attributes:
        name: Schema name.
        schema: The JSON Schema.
        strict: Enforce it exactly.
        description: What the output is.
    """

    name: str
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class ResponseFormat(_Wire, kw_only=True):
    """``response_format``: ``text``, ``json_object`` or ``json_schema``.

    Attributes:
        type: The format type.
        json_schema: The schema when ``type`` is ``json_schema``.
    """

    type: str
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Wire, kw_only=True):
    """``stream_options``.

    Attributes:
        include_usage: Send a final chunk with usage (and ``choices: []``).
    """

    include_usage: bool | None = None


class ChatCompletionRequest(_Wire, kw_only=True):
    """``POST /chat/completions`` body.

    Attributes:
        model: Model id.
        messages: The conversation.
        tools: Tools the model may call.
        tool_choice: ``auto``/``none``/``required`` or a named function.
        parallel_tool_calls: Allow several calls in one turn.
        response_format: Structured output.
        temperature: Sampling temperature.
        top_p: Nucleus sampling.
        max_tokens: Legacy output limit (most compatible providers).
        max_completion_tokens: OpenAI's output limit (reasoning models need it).
        stop: Stop sequences.
        seed: Sampling seed.
        stream: Stream the reply as SSE.
        stream_options: Streaming options.
        n: Number of choices.
        user: End-user id.
        reasoning_effort: ``minimal``/``low``/``medium``/``high``.
        frequency_penalty: Penalty for repeated tokens.
        presence_penalty: Penalty for tokens already present.
        logprobs: Return log probabilities.
        top_logprobs: How many alternatives per token.
        service_tier: Requested tier.
        metadata: Stored-completion metadata.
    """

    model: str
    messages: list[ChatMessage]
    tools: list[Tool] | None = None
    tool_choice: str | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    n: int | None = None
    user: str | None = None
    reasoning_effort: str | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    service_tier: str | None = None
    metadata: dict[str, str] | None = None


# ---------------------------------------------------------------- usage and errors


class PromptTokensDetails(_Wire, kw_only=True):
    """``usage.prompt_tokens_details``.

    Attributes:
        cached_tokens: Prompt tokens read from the cache (a subset of ``prompt_tokens``).
        cache_write_tokens: Prompt tokens written to the cache (OpenRouter, some gateways).
        audio_tokens: Audio input tokens.
    """

    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    audio_tokens: int | None = None


class CompletionTokensDetails(_Wire, kw_only=True):
    """``usage.completion_tokens_details``.

    Attributes:
        reasoning_tokens: Hidden reasoning tokens (a subset of ``completion_tokens``).
        audio_tokens: Audio output tokens.
        accepted_prediction_tokens: Predicted-output tokens accepted.
        rejected_prediction_tokens: Predicted-output tokens rejected.
    """

    reasoning_tokens: int | None = None
    audio_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None


class CompletionUsage(_Wire, kw_only=True):
    """``usage`` of a completion or of the last stream chunk.

    Attributes:
        prompt_tokens: All input tokens, cached included.
        completion_tokens: All output tokens, reasoning included.
        total_tokens: Their sum.
        prompt_tokens_details: Cache and audio detail.
        completion_tokens_details: Reasoning and audio detail.
        prompt_cache_hit_tokens: DeepSeek's cached prompt tokens.
        prompt_cache_miss_tokens: DeepSeek's uncached prompt tokens.
        cached_tokens: Cached prompt tokens reported at top level (some providers).
        cost: OpenRouter's charged cost in credits.
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    prompt_cache_hit_tokens: int | None = None
    prompt_cache_miss_tokens: int | None = None
    cached_tokens: int | None = None
    cost: float | None = None


class ErrorObject(_Wire, kw_only=True):
    """The ``error`` object of an error body, a Groq ``event: error`` or an OpenRouter chunk.

    Attributes:
        message: What went wrong.
        type: Error type, e.g. ``invalid_request_error``.
        code: Error code; a string for OpenAI, a number for OpenRouter.
        param: The offending request parameter.
        failed_generation: Groq's failed tool-call text.
        status_code: An HTTP-like status inside a stream error.
        metadata: OpenRouter's provider details.
    """

    message: str = ""
    type: str | None = None
    code: str | int | None = None
    param: str | None = None
    failed_generation: str | None = None
    status_code: int | None = None
    metadata: dict[str, Any] | None = None


class ErrorBody(_Wire, kw_only=True):
    """An error response body ``{"error": {...}}``.

    Attributes:
        error: The error.
    """

    error: ErrorObject


# ---------------------------------------------------------------- responses


class Choice(_Full, kw_only=True):
    """One choice of a non-streamed completion.

    Attributes:
        message: The assistant message.
        index: The choice's position.
        finish_reason: ``stop``, ``length``, ``tool_calls``, ``content_filter``, or a
            provider's own value.
        native_finish_reason: OpenRouter's upstream finish reason.
        logprobs: Log probabilities, as sent.
    """

    message: ChatMessage
    index: int = 0
    finish_reason: str | None = None
    native_finish_reason: str | None = None
    logprobs: Any = None


class ChatCompletion(_Full, kw_only=True):
    """A non-streamed ``chat.completion``.

    Attributes:
        id: Response id.
        object: ``chat.completion``.
        created: Unix time.
        model: The model that answered.
        choices: The choices.
        usage: Token usage.
        system_fingerprint: Backend configuration fingerprint.
        service_tier: The tier that served the request (any string).
        provider: OpenRouter's upstream provider.
        error: An error object sent with a success status (OpenRouter).
    """

    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: list[Choice] = []
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    provider: str | None = None
    error: ErrorObject | None = None


class FunctionCallDelta(_Wire, kw_only=True):
    """A fragment of a streamed tool call's function.

    Attributes:
        name: The name, usually only in the first fragment.
        arguments: A fragment of the argument JSON.
    """

    name: str | None = None
    arguments: str | None = None


class ToolCallChunk(_Wire, kw_only=True):
    """A fragment of a streamed tool call; fragments are grouped by ``index``.

    Attributes:
        index: Which call this fragment belongs to (None when the provider sent none).
        id: The call id, usually only in the first fragment.
        type: ``function``.
        function: Name and/or argument fragment.
    """

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCallDelta | None = None


class ChoiceDelta(_Wire, kw_only=True):
    """What one chunk adds to a choice.

    Attributes:
        role: The role, in the first delta (some providers repeat it).
        content: A text fragment, or (Mistral) a list of parts.
        reasoning_content: DeepSeek/Z.ai reasoning fragment.
        reasoning: Groq/OpenRouter/vLLM reasoning fragment.
        reasoning_details: OpenRouter structured reasoning fragments.
        tool_calls: Tool call fragments.
        refusal: Refusal text fragment.
        channel: Groq's harmony channel name.
    """

    role: str | None = None
    content: str | list[ContentPart] | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    reasoning_details: list[ReasoningDetail] | None = None
    tool_calls: list[ToolCallChunk] | None = None
    refusal: str | None = None
    channel: str | None = None


class ChunkChoice(_Full, kw_only=True):
    """One choice of a stream chunk.

    Attributes:
        delta: What this chunk adds.
        index: The choice's position.
        finish_reason: Set in the choice's last chunk.
        native_finish_reason: OpenRouter's upstream finish reason.
        logprobs: Log probabilities, as sent.
    """

    delta: ChoiceDelta = msgspec.field(default_factory=ChoiceDelta)
    index: int = 0
    finish_reason: str | None = None
    native_finish_reason: str | None = None
    logprobs: Any = None


class ChatCompletionChunk(_Full, kw_only=True):
    """One ``chat.completion.chunk`` of a stream.

    Attributes:
        id: Response id (Snowflake sends ``""``).
        object: ``chat.completion.chunk``.
        created: Unix time.
        model: The model.
        choices: Usually one; ``[]`` in the usage chunk.
        usage: Token usage (final chunk with ``include_usage``; some providers on every chunk).
        system_fingerprint: Backend configuration fingerprint.
        service_tier: The tier that served the request.
        provider: OpenRouter's upstream provider.
        error: OpenRouter's in-stream error.
    """

    id: str = ""
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str = ""
    choices: list[ChunkChoice] = []
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    provider: str | None = None
    error: ErrorObject | None = None


# ---------------------------------------------------------------- embeddings and models


class EmbeddingRequest(_Wire, kw_only=True):
    """``POST /embeddings`` body.

    Attributes:
        model: Model id.
        input: Text, texts, or token arrays.
        encoding_format: ``float`` or ``base64``.
        dimensions: Output dimensions, where supported.
        user: End-user id.
    """

    model: str
    input: str | list[str | int | list[int]]
    encoding_format: str | None = None
    dimensions: int | None = None
    user: str | None = None


class Embedding(_Full, kw_only=True):
    """One embedding vector.

    Attributes:
        embedding: Floats, or a base64 string with ``encoding_format="base64"``.
        index: Position of the input it embeds.
        object: ``embedding``.
    """

    embedding: list[float] | str
    index: int = 0
    object: str = "embedding"


class EmbeddingUsage(_Wire, kw_only=True):
    """Embedding token usage.

    Attributes:
        prompt_tokens: Input tokens.
        total_tokens: Total tokens.
    """

    prompt_tokens: int | None = None
    total_tokens: int | None = None


class EmbeddingResponse(_Full, kw_only=True):
    """``/embeddings`` response.

    Attributes:
        data: One embedding per input.
        model: The model.
        object: ``list``.
        usage: Token usage.
    """

    data: list[Embedding] = []
    model: str = ""
    object: str = "list"
    usage: EmbeddingUsage | None = None


class Model(_Full, kw_only=True):
    """One entry of ``GET /models``.

    Attributes:
        id: Model id.
        object: ``model``.
        created: Unix time.
        owned_by: Owner.
    """

    id: str
    object: str = "model"
    created: int | None = None
    owned_by: str | None = None


class ModelList(_Full, kw_only=True):
    """``GET /models`` response.

    Attributes:
        data: The models.
        object: ``list``.
    """

    data: list[Model] = []
    object: str = "list"


# ---------------------------------------------------------------- codecs, built once

_chunk_decoder = msgspec.json.Decoder(ChatCompletionChunk)
_completion_decoder = msgspec.json.Decoder(ChatCompletion)
_request_decoder = msgspec.json.Decoder(ChatCompletionRequest)
_error_decoder = msgspec.json.Decoder(ErrorBody)
_embedding_decoder = msgspec.json.Decoder(EmbeddingResponse)
_model_list_decoder = msgspec.json.Decoder(ModelList)


def decode_chunk(data: bytes | str) -> ChatCompletionChunk:
    """Decode one stream chunk (an SSE event's ``data``; not ``[DONE]``).

    Args:
        data: The JSON text.

    Raises:
        msgspec.DecodeError: Not JSON, or not a chunk.
    """
    return _chunk_decoder.decode(data)


def decode_completion(data: bytes | str) -> ChatCompletion:
    """Decode a non-streamed completion body.

    Args:
        data: The JSON body.

    Raises:
        msgspec.DecodeError: Not JSON, or not a completion.
    """
    return _completion_decoder.decode(data)


def decode_request(data: bytes | str) -> ChatCompletionRequest:
    """Decode a request body (what a test server receives).

    Args:
        data: The JSON body.

    Raises:
        msgspec.DecodeError: Not JSON, or not a request.
    """
    return _request_decoder.decode(data)


def decode_error(data: bytes | str) -> ErrorBody:
    """Decode an error body ``{"error": {...}}`` (also a Groq ``event: error`` payload).

    Args:
        data: The JSON body.

    Raises:
        msgspec.DecodeError: Not JSON, or no ``error`` object.
    """
    return _error_decoder.decode(data)


def decode_embedding_response(data: bytes | str) -> EmbeddingResponse:
    """Decode an ``/embeddings`` response.

    Args:
        data: The JSON body.
    """
    return _embedding_decoder.decode(data)


def decode_model_list(data: bytes | str) -> ModelList:
    """Decode a ``GET /models`` response.

    Args:
        data: The JSON body.
    """
    return _model_list_decoder.decode(data)


def encode(body: msgspec.Struct, extra: dict[str, Any] | None = None) -> bytes:
    """Encode any struct of this module as JSON, merging top-level ``extra`` fields.

    Args:
        body: A request (or any wire struct).
        extra: Provider-specific fields to add or override (``ChatRequest.extra``).
    """
    return encode_body(body, extra)
