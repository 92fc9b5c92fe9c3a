"""Google Gemini API wire structs (``generativelanguage.googleapis.com`` and Vertex AI).

Field names are camelCase on the wire (``thoughtSignature``, ``usageMetadata``); the structs use
snake_case attributes and rename them. Decoding is lenient: unknown fields are ignored and every
field the API may leave out has a default, so a new response field never breaks a client.
Encoding omits fields left at their defaults, so a request holds only what was set.

Facts these structs keep that other stacks lose:

- ``Part.thought_signature`` sits on the exact part it came with (a text part, a thought part,
  a ``functionCall`` part, or an empty text part that holds only the signature); it is opaque
  base64 text, kept as sent.
- ``UsageMetadata`` is cumulative in streams: the latest one wins, never summed.
  ``prompt_token_count`` includes ``cached_content_token_count``; ``thoughts_token_count`` is
  apart from ``candidates_token_count``.
- A stream (``:streamGenerateContent?alt=sse``) is a series of whole ``GenerateContentResponse``
  bodies, each holding only the new parts, with no end marker; without ``alt=sse`` the same
  bodies arrive as one JSON array (``JSONArrayDecoder`` splits it as it arrives).
- Errors are ``{"error": {"code", "message", "status", "details"}}`` (Vertex may wrap it in a
  one-element array); a ``google.rpc.RetryInfo`` detail carries ``retryDelay`` (``"24s"``).

Example:
    >>> body = decode_response(b'{"candidates":[{"content":{"role":"model","parts":'
    ...     b'[{"text":"Hi","thoughtSignature":"c2ln"}]},"finishReason":"STOP"}]}')
    >>> body.candidates[0].content.parts[0].thought_signature
    'c2ln'
"""

from __future__ import annotations

import re
from typing import Any, cast

import msgspec

from ._codec import encode_body

# Past 800 lines on purpose: this is the one typed source of an API family's wire shapes (as
# atoll_wire.openai is), and most of its lines are the field documentation users read; split
# across modules the structs would reference each other in circles.
__all__ = (
    "BatchEmbedContentsRequest",
    "BatchEmbedContentsResponse",
    "Blob",
    "Candidate",
    "CodeExecutionResult",
    "Content",
    "ContentEmbedding",
    "CountTokensRequest",
    "CountTokensResponse",
    "EmbedContentRequest",
    "EmbedContentResponse",
    "ErrorResponse",
    "ExecutableCode",
    "FileData",
    "FunctionCall",
    "FunctionCallingConfig",
    "FunctionDeclaration",
    "FunctionResponse",
    "GenerateContentRequest",
    "GenerateContentResponse",
    "GenerationConfig",
    "JSONArrayDecoder",
    "ListModelsResponse",
    "ModalityTokenCount",
    "Model",
    "Part",
    "PredictEmbeddings",
    "PredictInstance",
    "PredictPrediction",
    "PredictRequest",
    "PredictResponse",
    "PredictStatistics",
    "PromptFeedback",
    "SafetyRating",
    "SafetySetting",
    "Status",
    "ThinkingConfig",
    "Tool",
    "ToolConfig",
    "UsageMetadata",
    "decode_batch_embed_response",
    "decode_count_tokens_response",
    "decode_embed_response",
    "decode_error",
    "decode_model_list",
    "decode_predict_response",
    "decode_request",
    "decode_response",
    "encode",
    "retry_delay",
)


# gc=False: decoded wire data never forms reference cycles; untracked structs allocate faster.
class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel", gc=False):
    """Every struct: keyword-only, camelCase on the wire, defaults left out when encoding."""


# ---------------------------------------------------------------- content and parts


class Blob(_Wire, kw_only=True):
    """``inlineData``: bytes sent inline (images, audio, video, PDF).

    Attributes:
        mime_type: The IANA MIME type (``image/png``, ``application/pdf``, ...).
        data: The bytes, base64 text (kept as text: never decoded on the hot path).
        display_name: A label for the blob (Vertex only).
    """

    mime_type: str = ""
    data: str = ""
    display_name: str | None = None


class FileData(_Wire, kw_only=True):
    """``fileData``: a file by URI (Files API ``https://`` URI or a ``gs://`` object).

    Attributes:
        file_uri: The URI.
        mime_type: The IANA MIME type.
        display_name: A label for the file (Vertex only).
    """

    file_uri: str = ""
    mime_type: str | None = None
    display_name: str | None = None


class FunctionCall(_Wire, kw_only=True):
    """``functionCall``: a call the model asks for.

    Attributes:
        name: The function's name.
        args: The arguments object (absent when the function takes none).
        id: The call's id; older models send none.
    """

    name: str = ""
    args: dict[str, Any] | None = None
    id: str | None = None


class FunctionResponse(_Wire, kw_only=True):
    """``functionResponse``: a function's result sent back to the model.

    Attributes:
        name: The function's name (required by the API).
        response: The result object (``{"output": ...}`` or ``{"error": ...}`` by convention).
        id: The id of the call this answers, when the call had one.
        parts: Media parts of the result (newer models).
        will_continue: More responses follow for this call (non-blocking calls).
        scheduling: How a non-blocking response is scheduled.
    """

    name: str = ""
    response: dict[str, Any] | None = None
    id: str | None = None
    parts: list[Any] | None = None
    will_continue: bool | None = None
    scheduling: str | None = None


class ExecutableCode(_Wire, kw_only=True):
    """``executableCode``: code the model wrote for the code-execution tool.

    Attributes:
        language: ``PYTHON``.
        code: The code.
    """

    language: str | None = None
    code: str = ""


class CodeExecutionResult(_Wire, kw_only=True):
    """``codeExecutionResult``: the outcome of running ``executableCode`` (server side).

    Attributes:
        outcome: ``OUTCOME_OK``, ``OUTCOME_FAILED``, ``OUTCOME_DEADLINE_EXCEEDED``.
        output: Its standard output (or error text).
    """

    outcome: str | None = None
    output: str | None = None


class Part(_Wire, kw_only=True):
    """One part of a ``Content``: exactly one data field is set, plus optional markers.

    One struct for every kind keeps decoding lenient: a part kind we do not know still decodes
    (with none of the fields below set) instead of failing.

    Attributes:
        text: Text (with ``thought``: the model's thought summary).
        thought: The part is the model's reasoning.
        thought_signature: Opaque base64 signature of the model's reasoning, on the exact part it
            came with; send it back on that part, unchanged.
        inline_data: Inline bytes.
        file_data: A file by URI.
        function_call: A call the model asks for.
        function_response: A function's result.
        executable_code: Code for the code-execution tool.
        code_execution_result: That code's outcome.
        video_metadata: Clip offsets and frame rate of a video part.
        media_resolution: Per-part media resolution.
        part_metadata: Custom metadata (newer APIs).
    """

    text: str | None = None
    thought: bool | None = None
    thought_signature: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    executable_code: ExecutableCode | None = None
    code_execution_result: CodeExecutionResult | None = None
    video_metadata: dict[str, Any] | None = None
    media_resolution: Any = None
    part_metadata: dict[str, Any] | None = None


class Content(_Wire, kw_only=True):
    """A turn: ``role`` (``user`` or ``model``) and its parts.

    Attributes:
        role: ``user`` or ``model`` (absent on a blocked candidate's empty content).
        parts: The parts, in order (absent when the model produced none).
    """

    role: str | None = None
    parts: list[Part] = []


# ---------------------------------------------------------------- request


class FunctionDeclaration(_Wire, kw_only=True):
    """A function the model may call.

    ``parameters_json_schema`` takes full JSON Schema (``$ref``, ``anyOf``, ...);
    ``parameters`` takes the OpenAPI 3.0 subset (``type`` in upper case, ``nullable``) that
    older models require. Set one, never both.

    Attributes:
        name: The name (letters, digits, ``_``, ``.``, ``-``; at most 64 characters).
        description: What it does.
        parameters: Arguments as an OpenAPI subset schema.
        parameters_json_schema: Arguments as JSON Schema.
        response: The result as an OpenAPI subset schema.
        response_json_schema: The result as JSON Schema.
        behavior: ``BLOCKING`` or ``NON_BLOCKING`` (Live API).
    """

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    parameters_json_schema: Any = None
    response: dict[str, Any] | None = None
    response_json_schema: Any = None
    behavior: str | None = None


class Tool(_Wire, kw_only=True):
    """A tool entry: functions, or one of Google's server-side tools.

    Attributes:
        function_declarations: Client functions.
        google_search: Grounding with Google Search (``{}``).
        google_search_retrieval: The older search grounding tool.
        code_execution: Server-side code execution (``{}``).
        url_context: Read URLs named in the prompt (``{}``).
        retrieval: Vertex retrieval (RAG, Vertex AI Search).
    """

    function_declarations: list[FunctionDeclaration] | None = None
    google_search: dict[str, Any] | None = None
    google_search_retrieval: dict[str, Any] | None = None
    code_execution: dict[str, Any] | None = None
    url_context: dict[str, Any] | None = None
    retrieval: dict[str, Any] | None = None


class FunctionCallingConfig(_Wire, kw_only=True):
    """``toolConfig.functionCallingConfig``.

    Attributes:
        mode: ``AUTO``, ``ANY`` (must call), ``NONE`` or ``VALIDATED``.
        allowed_function_names: With ``ANY``: the functions it may call.
    """

    mode: str | None = None
    allowed_function_names: list[str] | None = None


class ToolConfig(_Wire, kw_only=True):
    """``toolConfig``.

    Attributes:
        function_calling_config: How functions may be called.
        retrieval_config: Location hints for grounding tools.
    """

    function_calling_config: FunctionCallingConfig | None = None
    retrieval_config: dict[str, Any] | None = None


class ThinkingConfig(_Wire, kw_only=True):
    """``generationConfig.thinkingConfig``.

    ``thinking_budget`` (tokens; 0 off, -1 dynamic; Gemini 2.5) and ``thinking_level``
    (``MINIMAL``, ``LOW``, ``MEDIUM``, ``HIGH``; Gemini 3) are mutually exclusive: the API
    rejects a request with both.

    Attributes:
        include_thoughts: Return thought summaries as ``thought`` parts.
        thinking_budget: Thinking tokens allowed.
        thinking_level: How much to think.
    """

    include_thoughts: bool | None = None
    thinking_budget: int | None = None
    thinking_level: str | None = None


class GenerationConfig(_Wire, kw_only=True):
    """``generationConfig``.

    Attributes:
        temperature: Sampling temperature.
        top_p: Nucleus sampling.
        top_k: Top-k sampling.
        candidate_count: Candidates to generate.
        max_output_tokens: Output cap.
        stop_sequences: Stop sequences (at most 5).
        seed: Sampling seed.
        presence_penalty: Presence penalty.
        frequency_penalty: Frequency penalty.
        response_mime_type: ``text/plain``, ``application/json`` or ``text/x.enum``.
        response_schema: Output schema, OpenAPI subset.
        response_json_schema: Output schema, JSON Schema.
        response_modalities: ``TEXT``, ``IMAGE``, ``AUDIO``.
        thinking_config: Thinking settings.
        response_logprobs: Return log probabilities.
        logprobs: Top candidates per token with log probabilities.
        media_resolution: Input media resolution.
        speech_config: Speech output settings.
    """

    temperature: float | None = None
    top_p: float | None = None
    top_k: float | None = None
    candidate_count: int | None = None
    max_output_tokens: int | None = None
    stop_sequences: list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_mime_type: str | None = None
    response_schema: dict[str, Any] | None = None
    response_json_schema: Any = None
    response_modalities: list[str] | None = None
    thinking_config: ThinkingConfig | None = None
    response_logprobs: bool | None = None
    logprobs: int | None = None
    media_resolution: str | None = None
    speech_config: Any = None


class SafetySetting(_Wire, kw_only=True):
    """A ``safetySettings`` entry.

    Attributes:
        category: ``HARM_CATEGORY_HATE_SPEECH``, ...
        threshold: ``BLOCK_LOW_AND_ABOVE``, ..., ``BLOCK_NONE``, ``OFF``.
        method: ``SEVERITY`` or ``PROBABILITY`` (Vertex only).
    """

    category: str
    threshold: str
    method: str | None = None


class GenerateContentRequest(_Wire, kw_only=True):
    """The body of ``models/{model}:generateContent`` and ``:streamGenerateContent``.

    Attributes:
        contents: The conversation (``user`` and ``model`` turns).
        system_instruction: The system prompt, as a content of text parts.
        tools: Tools the model may use.
        tool_config: How it may use them.
        generation_config: Sampling, limits, output format and thinking.
        safety_settings: Per-category blocking thresholds.
        cached_content: A cached content's name (``cachedContents/...``).
        labels: Billing labels (Vertex only).
        model: The model (only inside ``countTokens``' ``generateContentRequest``).
    """

    contents: list[Content]
    system_instruction: Content | None = None
    tools: list[Tool] | None = None
    tool_config: ToolConfig | None = None
    generation_config: GenerationConfig | None = None
    safety_settings: list[SafetySetting] | None = None
    cached_content: str | None = None
    labels: dict[str, str] | None = None
    model: str | None = None


# ---------------------------------------------------------------- response


class SafetyRating(_Wire, kw_only=True):
    """A safety rating of a prompt or a candidate.

    Attributes:
        category: The harm category.
        probability: ``NEGLIGIBLE``, ``LOW``, ``MEDIUM``, ``HIGH``.
        blocked: Whether this rating blocked the content.
        probability_score: Vertex's score.
        severity: Vertex's severity.
        severity_score: Vertex's severity score.
    """

    category: str | None = None
    probability: str | None = None
    blocked: bool | None = None
    probability_score: float | None = None
    severity: str | None = None
    severity_score: float | None = None


class Candidate(_Wire, kw_only=True):
    """One generated answer.

    Attributes:
        content: The answer's turn; in a stream, only the new parts.
        finish_reason: Why it stopped (``STOP``, ``MAX_TOKENS``, ``SAFETY``, ``RECITATION``,
            ``MALFORMED_FUNCTION_CALL``, ...); absent while it goes on.
        finish_message: Words about the finish reason.
        index: The candidate's position (absent in some stream chunks: then 0).
        safety_ratings: Ratings of the answer.
        citation_metadata: Sources recited.
        grounding_metadata: Grounding sources (search, retrieval).
        url_context_metadata: URLs the url-context tool read.
        token_count: Tokens of this candidate.
        avg_logprobs: Mean log probability.
        logprobs_result: Per-token log probabilities.
    """

    content: Content | None = None
    finish_reason: str | None = None
    finish_message: str | None = None
    index: int | None = None
    safety_ratings: list[SafetyRating] | None = None
    citation_metadata: Any = None
    grounding_metadata: Any = None
    url_context_metadata: Any = None
    token_count: int | None = None
    avg_logprobs: float | None = None
    logprobs_result: Any = None


class PromptFeedback(_Wire, kw_only=True):
    """``promptFeedback``: set when the prompt itself was blocked (then no candidates come).

    Attributes:
        block_reason: ``SAFETY``, ``OTHER``, ``BLOCKLIST``, ``PROHIBITED_CONTENT``,
            ``IMAGE_SAFETY``, ...
        block_reason_message: Words about it (Vertex only).
        safety_ratings: The prompt's ratings.
    """

    block_reason: str | None = None
    block_reason_message: str | None = None
    safety_ratings: list[SafetyRating] | None = None


class ModalityTokenCount(_Wire, kw_only=True):
    """Tokens of one modality.

    Attributes:
        modality: ``TEXT``, ``IMAGE``, ``AUDIO``, ``VIDEO``, ``DOCUMENT``.
        token_count: The count.
    """

    modality: str | None = None
    token_count: int | None = None


class UsageMetadata(_Wire, kw_only=True):
    """``usageMetadata``; cumulative in streams (the latest wins).

    Attributes:
        prompt_token_count: All prompt tokens, cached content included.
        cached_content_token_count: Prompt tokens served from cached content.
        candidates_token_count: Tokens of the answer (thoughts excluded).
        tool_use_prompt_token_count: Tokens of server-side tool results fed to the model.
        thoughts_token_count: Thinking tokens (billed as output).
        total_token_count: The sum of prompt, candidates, tool-use prompt and thoughts.
        prompt_tokens_details: Prompt tokens by modality.
        cache_tokens_details: Cached tokens by modality.
        candidates_tokens_details: Answer tokens by modality.
        tool_use_prompt_tokens_details: Tool-use prompt tokens by modality.
        traffic_type: Vertex's traffic type (``ON_DEMAND``, ``PROVISIONED_THROUGHPUT``).
        service_tier: The service tier that served it.
    """

    prompt_token_count: int | None = None
    cached_content_token_count: int | None = None
    candidates_token_count: int | None = None
    tool_use_prompt_token_count: int | None = None
    thoughts_token_count: int | None = None
    total_token_count: int | None = None
    prompt_tokens_details: list[ModalityTokenCount] | None = None
    cache_tokens_details: list[ModalityTokenCount] | None = None
    candidates_tokens_details: list[ModalityTokenCount] | None = None
    tool_use_prompt_tokens_details: list[ModalityTokenCount] | None = None
    traffic_type: str | None = None
    service_tier: str | None = None


class Status(_Wire, kw_only=True):
    """A ``google.rpc.Status``: an error body's ``error``.

    Attributes:
        code: The HTTP status.
        message: What went wrong.
        status: The canonical code name (``INVALID_ARGUMENT``, ``RESOURCE_EXHAUSTED``, ...).
        details: Typed details, each with an ``@type`` (``google.rpc.RetryInfo``, ...).
    """

    code: int | None = None
    message: str | None = None
    status: str | None = None
    details: list[dict[str, Any]] | None = None


class GenerateContentResponse(_Wire, kw_only=True):
    """A ``generateContent`` answer, or one chunk of a stream.

    Attributes:
        candidates: The answers (none when the prompt was blocked).
        prompt_feedback: Set when the prompt was blocked.
        usage_metadata: Token counts (cumulative in a stream).
        model_version: The model that answered.
        response_id: The response's id.
        create_time: When it was made (Vertex).
        error: A mid-stream error (``data: {"error": {...}}``).
    """

    candidates: list[Candidate] = []
    prompt_feedback: PromptFeedback | None = None
    usage_metadata: UsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None
    create_time: str | None = None
    error: Status | None = None


class ErrorResponse(_Wire, kw_only=True):
    """An error body: ``{"error": {...}}``.

    Attributes:
        error: The status.
    """

    error: Status = msgspec.field(default_factory=Status)


# ---------------------------------------------------------------- embeddings and counting


class EmbedContentRequest(_Wire, kw_only=True):
    """``models/{model}:embedContent`` body, or one entry of ``batchEmbedContents``.

    Attributes:
        content: The text to embed (as a content of parts).
        model: ``models/{model}`` (required inside a batch).
        task_type: ``RETRIEVAL_QUERY``, ``RETRIEVAL_DOCUMENT``, ``SEMANTIC_SIMILARITY``, ...
        title: A document title (``RETRIEVAL_DOCUMENT``).
        output_dimensionality: Truncate vectors to this size.
    """

    content: Content
    model: str | None = None
    task_type: str | None = None
    title: str | None = None
    output_dimensionality: int | None = None


class BatchEmbedContentsRequest(_Wire, kw_only=True):
    """``models/{model}:batchEmbedContents`` body.

    Attributes:
        requests: One request per text.
    """

    requests: list[EmbedContentRequest]


class ContentEmbedding(_Wire, kw_only=True):
    """One vector.

    Attributes:
        values: The floats.
    """

    values: list[float] = []


class EmbedContentResponse(_Wire, kw_only=True):
    """``embedContent`` answer.

    Attributes:
        embedding: The vector.
    """

    embedding: ContentEmbedding = msgspec.field(default_factory=ContentEmbedding)


class BatchEmbedContentsResponse(_Wire, kw_only=True):
    """``batchEmbedContents`` answer.

    Attributes:
        embeddings: One vector per request, in order.
    """

    embeddings: list[ContentEmbedding] = []


class PredictInstance(_Wire, kw_only=True):
    """One text of a Vertex ``:predict`` embeddings request.

    Attributes:
        content: The text.
        task_type: The task type (snake case on this API: ``task_type``).
        title: A document title.
    """

    content: str
    task_type: str | None = msgspec.field(default=None, name="task_type")
    title: str | None = None


class PredictRequest(_Wire, kw_only=True):
    """Vertex ``publishers/google/models/{model}:predict`` embeddings body.

    Attributes:
        instances: The texts.
        parameters: ``{"outputDimensionality": n, "autoTruncate": bool}``.
    """

    instances: list[PredictInstance]
    parameters: dict[str, Any] | None = None


class PredictStatistics(_Wire, kw_only=True):
    """Vertex embedding statistics (snake case on the wire).

    Attributes:
        token_count: Tokens of the input text.
        truncated: Whether the input was cut.
    """

    token_count: float | None = msgspec.field(default=None, name="token_count")
    truncated: bool | None = None


class PredictEmbeddings(_Wire, kw_only=True):
    """One Vertex embedding.

    Attributes:
        values: The floats.
        statistics: Token count and truncation.
    """

    values: list[float] = []
    statistics: PredictStatistics | None = None


class PredictPrediction(_Wire, kw_only=True):
    """One prediction of a Vertex embeddings answer.

    Attributes:
        embeddings: The vector and its statistics.
    """

    embeddings: PredictEmbeddings = msgspec.field(default_factory=PredictEmbeddings)


class PredictResponse(_Wire, kw_only=True):
    """Vertex ``:predict`` embeddings answer.

    Attributes:
        predictions: One per instance, in order.
    """

    predictions: list[PredictPrediction] = []


class CountTokensRequest(_Wire, kw_only=True):
    """``models/{model}:countTokens`` body.

    The Gemini API counts a whole ``generateContentRequest`` (system prompt and tools
    included; its ``model`` is required there); Vertex takes the fields at the top level.

    Attributes:
        contents: The conversation (when no ``generate_content_request``).
        generate_content_request: The request to count (Gemini API).
        system_instruction: The system prompt (Vertex).
        tools: The tools (Vertex).
        generation_config: The generation settings (Vertex).
    """

    contents: list[Content] | None = None
    generate_content_request: GenerateContentRequest | None = None
    system_instruction: Content | None = None
    tools: list[Tool] | None = None
    generation_config: GenerationConfig | None = None


class CountTokensResponse(_Wire, kw_only=True):
    """``countTokens`` answer.

    Attributes:
        total_tokens: Tokens of the request.
        cached_content_token_count: Of those, tokens in cached content.
        prompt_tokens_details: By modality.
    """

    total_tokens: int = 0
    cached_content_token_count: int | None = None
    prompt_tokens_details: list[ModalityTokenCount] | None = None


class Model(_Wire, kw_only=True):
    """A ``models.list`` / ``models.get`` entry.

    Attributes:
        name: ``models/{id}``.
        base_model_id: The base model's id.
        version: The version.
        display_name: Human name.
        description: What it is.
        input_token_limit: Input tokens allowed.
        output_token_limit: Output tokens allowed.
        supported_generation_methods: ``generateContent``, ``countTokens``, ...
        thinking: Whether it thinks.
    """

    name: str = ""
    base_model_id: str | None = None
    version: str | None = None
    display_name: str | None = None
    description: str | None = None
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    supported_generation_methods: list[str] | None = None
    thinking: bool | None = None


class ListModelsResponse(_Wire, kw_only=True):
    """``models.list`` answer.

    Attributes:
        models: One page of models.
        next_page_token: The next page's token, when there is one.
    """

    models: list[Model] = []
    next_page_token: str | None = None


# ---------------------------------------------------------------- codecs, built once

_response_decoder = msgspec.json.Decoder(GenerateContentResponse)
_request_decoder = msgspec.json.Decoder(GenerateContentRequest)
_error_decoder = msgspec.json.Decoder(ErrorResponse)
_error_list_decoder = msgspec.json.Decoder(list[ErrorResponse])
_embed_decoder = msgspec.json.Decoder(EmbedContentResponse)
_batch_embed_decoder = msgspec.json.Decoder(BatchEmbedContentsResponse)
_predict_decoder = msgspec.json.Decoder(PredictResponse)
_count_decoder = msgspec.json.Decoder(CountTokensResponse)
_models_decoder = msgspec.json.Decoder(ListModelsResponse)


def decode_response(data: bytes | str) -> GenerateContentResponse:
    """Decode a ``generateContent`` body or one stream chunk (an SSE event's ``data``).

    Raises:
        msgspec.DecodeError: Not JSON, or not a response.
    """
    return _response_decoder.decode(data)


def decode_request(data: bytes | str) -> GenerateContentRequest:
    """Decode a ``generateContent`` request body (what a test server receives).

    Raises:
        msgspec.DecodeError: Not JSON, or not a request.
    """
    return _request_decoder.decode(data)


def decode_error(data: bytes | str) -> ErrorResponse:
    """Decode an error body, ``{"error": {...}}`` or Vertex's ``[{"error": {...}}]``.

    Raises:
        msgspec.DecodeError: Not JSON, or not an error body.
    """
    text = data.lstrip() if isinstance(data, bytes) else data.lstrip().encode()
    if text[:1] == b"[":
        errors = _error_list_decoder.decode(text)
        if not errors:
            raise msgspec.ValidationError("an empty list is not an error body")
        return errors[0]
    return _error_decoder.decode(text)


def decode_embed_response(data: bytes | str) -> EmbedContentResponse:
    """Decode an ``embedContent`` answer."""
    return _embed_decoder.decode(data)


def decode_batch_embed_response(data: bytes | str) -> BatchEmbedContentsResponse:
    """Decode a ``batchEmbedContents`` answer."""
    return _batch_embed_decoder.decode(data)


def decode_predict_response(data: bytes | str) -> PredictResponse:
    """Decode a Vertex ``:predict`` embeddings answer."""
    return _predict_decoder.decode(data)


def decode_count_tokens_response(data: bytes | str) -> CountTokensResponse:
    """Decode a ``countTokens`` answer."""
    return _count_decoder.decode(data)


def decode_model_list(data: bytes | str) -> ListModelsResponse:
    """Decode a ``models.list`` answer."""
    return _models_decoder.decode(data)


def encode(body: msgspec.Struct, extra: dict[str, Any] | None = None) -> bytes:
    """Encode any struct of this module as JSON, merging top-level ``extra`` fields.

    Args:
        body: A request (or any wire struct).
        extra: Fields to add or override at the top level.
    """
    return encode_body(body, extra)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)s\s*$")
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def retry_delay(status: Status) -> float | None:
    """The wait a ``google.rpc.RetryInfo`` detail asks for, in seconds (``"24s"`` -> 24.0).

    Args:
        status: An error body's status.

    Returns:
        Seconds, or None when no RetryInfo detail with a readable ``retryDelay`` is present.
    """
    for detail in status.details or ():
        if detail.get("@type") != _RETRY_INFO:
            continue
        delay = detail.get("retryDelay")
        if isinstance(delay, str) and (found := _DURATION.match(delay)):
            return float(found.group(1))
        if isinstance(delay, dict):  # the proto form {"seconds": n, "nanos": n}
            parts = cast("dict[str, object]", delay)
            seconds, nanos = parts.get("seconds", 0), parts.get("nanos", 0)
            try:
                return float(seconds) + float(nanos) / 1e9  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return None
    return None


class JSONArrayDecoder:
    """Splits a streamed JSON array (``streamGenerateContent`` without ``alt=sse``) into items.

    Feed body bytes as they arrive; each call returns the top-level elements completed so far,
    as raw JSON bytes (decode each with ``decode_response``). Strings and escapes are tracked,
    so a brace inside text never ends an element.

    Example:
        >>> decoder = JSONArrayDecoder()
        >>> decoder.feed(b'[{"a": "}"},') + decoder.feed(b' {"b": 2}]')
        [b'{"a": "}"}', b'{"b": 2}']
    """

    __slots__ = ("_buffer", "_depth", "_escape", "_in_string", "_opened", "_start")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._depth = 0
        self._in_string = False
        self._escape = False
        self._opened = False
        self._start = -1

    def feed(self, data: bytes) -> list[bytes]:
        """The elements completed by ``data``, in order.

        Raises:
            ValueError: The body is not a JSON array of objects.
        """
        out: list[bytes] = []
        buffer = self._buffer
        base = len(buffer)
        buffer += data
        for offset, byte in enumerate(data):
            position = base + offset
            if self._in_string:
                if self._escape:
                    self._escape = False
                elif byte == 0x5C:  # backslash
                    self._escape = True
                elif byte == 0x22:  # quote
                    self._in_string = False
                continue
            if byte == 0x22:
                self._in_string = True
            elif byte in (0x7B, 0x5B) and (self._opened or byte == 0x7B):  # { or [ inside
                if self._depth == 0:
                    self._start = position
                self._depth += 1
            elif byte == 0x5B and not self._opened:
                self._opened = True
            elif byte in (0x7D, 0x5D) and self._depth:
                self._depth -= 1
                if self._depth == 0:
                    out.append(bytes(buffer[self._start : position + 1]))
                    self._start = -1
        if self._depth == 0:
            del buffer[:]  # nothing pending: keep the buffer small
        elif self._start > 0:
            del buffer[: self._start]
            self._start = 0
        return out
