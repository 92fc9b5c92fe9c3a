# ruff: noqa: F403, F405
# pyright: reportWildcardImportFromLibrary=false
"""A page of legacy-style code, as users of the old one-import API write it.

It is the legacy README's walk-through translated to Python names (``airetry!`` is
``airetry_``, symbols ``:Name`` are strings ``":Name"``, named tuples are dicts) and nothing
else: no Atoll layer appears, and it runs unchanged against any provider the registry points at.
"""

from __future__ import annotations

from atoll import *  # the legacy habit: one import brings everything
from pydantic import BaseModel

# Hello world, with the default model.
msg = aigenerate("Say hi!")
print(msg.content)

# Placeholders and an alias.
capital = aigenerate("What is the capital of {{country}}?", country="France", model="gpt4om")

# A conversation, on an Anthropic model through its alias.
conversation = [
    SystemMessage("You're master Yoda from Star Wars trying to help the user become a Jedi."),
    UserMessage("I have feelings for my iPhone. What should I do?"),
]
yoda = aigenerate(conversation, model="claudeh")

# Keep talking.
chat = aigenerate("Say hi!", return_all=True)
chat = aigenerate("And now in French, please.", conversation=chat, return_all=True)


# Extraction into a type.
class MyMeasurement(BaseModel):
    """Person's age, height, and weight."""

    age: int
    height: int | None
    weight: float | None


measurement = aiextract("James is 30, weighs 80kg. He's 180cm tall.", return_type=MyMeasurement)
assert measurement.content.age == 30

# Classification.
verdict = aiclassify("Is two plus two four?")

# Templates.
tpl = create_template(
    "You must speak like a pirate", "Say hi to {{name}}", load_as="GreatingPirate"
)
pirate = aigenerate(":GreatingPirate", name="Jack Sparrow")
ask = aigenerate(":AssistantAsk", ask="How do atolls form?")
found = aitemplates("pirate")

# Embeddings.
embedding = aiembed(["Hello World", "How are you?"])


# Tools, returned and run on request.
def get_weather(location: str, date: str) -> str:
    """Weather for a location and date."""
    return f"The weather in {location} on {date} is 70 degrees."


weather = aitools("What's the weather in Tokyo on May 3rd, 2023?", tools=get_weather)

# Lazy calls with a retry check.
out = AIGenerate("Say hi!", config=RetryConfig(max_retries=2))
run_(out)
airetry_(lambda x: len(x.last_output()) > 0, out, "Say something.")

replies = [msg, capital, yoda, chat[-1], measurement, verdict, pirate, ask, weather]
total_cost = sum(m.cost for m in replies if m.cost is not None)
print(f"total: ${total_cost:.6f}")
