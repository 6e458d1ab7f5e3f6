"""A Python agent instrumented with the AgentSpec SDK: FastAPI with seed 000's lifespan pattern, and a LangGraph graph
of plain functions (search, summarise, delete on confirmation) whose tool and guardrail use reaches the sidecar.

- Auto-registration: with AGENTSPEC_CONTROL_PLANE_URL set (the webhook injects it into the pod), reporter.start()
  registers the instance and heartbeats; nothing here mentions it.
- Push mode (seed 000): with AGENTSPEC_URL and AGENTSPEC_KEY set, reports are pushed there every
  AGENTSPEC_PUSH_INTERVAL_SECONDS (30).
- GET /agentspec/health serves the live report; POST /chat runs the graph.

Run it: ``pip install -r requirements.txt && python app.py`` once the SDK is on PyPI (until then, from the repository
root: ``pip install './sdk/python[fastapi,langgraph]' uvicorn``); PORT, default 8000; AGENTSPEC_MANIFEST_PATH, default
the agent.yaml beside this file.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypedDict

import uvicorn
from fastapi import BackgroundTasks, FastAPI
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from agentspec import AgentSpecReporter
from agentspec.langgraph import (
    AgentSpecCallbackHandler,
    AgentSpecMiddleware,
    SidecarClient,
    confirm_user,
    request_id_var,
    tools_called,
)

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

MANIFEST = os.environ.get("AGENTSPEC_MANIFEST_PATH") or str(Path(__file__).with_name("agent.yaml"))
reporter = AgentSpecReporter.from_yaml(MANIFEST)
for tool in reporter.manifest["spec"].get("tools", []):
    reporter.register_tool(tool["name"])

NOTES = {
    "deploys": "Deploys go out on Tuesdays and Thursdays after the 10:00 review.",
    "on-call": "On-call hands over on Mondays at 09:00; the runbook is in the wiki.",
}


class State(TypedDict):
    question: str
    found: list[str]
    answer: str
    confirmed: bool


def scrub_pii(state: State) -> dict[str, Any]:
    """The pii-detector guardrail: e-mail addresses never reach the other nodes."""
    return {"question": re.sub(r"\S+@\S+", "[email]", state["question"])}


def search_notes(state: State) -> dict[str, Any]:
    words = set(re.findall(r"[a-z-]+", state["question"].lower()))
    return {"found": [text for key, text in NOTES.items() if key in words]}


def summarize(state: State) -> dict[str, Any]:
    return {"answer": " ".join(state["found"]) or "No note answers that."}


def delete_notes(state: State) -> dict[str, Any]:
    if state["confirmed"]:
        confirm_user()
        return {"answer": "Deleted (not really: this is an example)."}
    return {"answer": "Deleting notes needs your confirmation."}


def route(state: State) -> str:
    return "delete-notes" if "delete" in state["question"].lower() else "search-notes"


graph_builder = StateGraph(State)
graph_builder.add_node("check_pii", scrub_pii)
graph_builder.add_node("search-notes", search_notes)
graph_builder.add_node("summarize", summarize)
graph_builder.add_node("delete-notes", delete_notes)
graph_builder.add_edge(START, "check_pii")
graph_builder.add_conditional_edges("check_pii", route, ["search-notes", "delete-notes"])
graph_builder.add_edge("search-notes", "summarize")
graph_builder.add_edge("summarize", END)
graph_builder.add_edge("delete-notes", END)
graph = graph_builder.compile()
callbacks = AgentSpecCallbackHandler.for_manifest(reporter.manifest, guardrails={"check_pii": "pii-detector"})
sidecar = SidecarClient(os.environ.get("AGENTSPEC_SIDECAR_URL", "http://localhost:4001"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    reporter.start()  # health checks, and auto-registration when AGENTSPEC_CONTROL_PLANE_URL is set
    if os.environ.get("AGENTSPEC_URL") and os.environ.get("AGENTSPEC_KEY"):
        reporter.start_push_mode(
            url=os.environ["AGENTSPEC_URL"],
            api_key=os.environ["AGENTSPEC_KEY"],
            interval_seconds=float(os.environ.get("AGENTSPEC_PUSH_INTERVAL_SECONDS", "30")),
        )
    yield
    reporter.stop_push_mode()
    reporter.stop()


app = FastAPI(title="python-agent", lifespan=lifespan)
app.add_middleware(AgentSpecMiddleware)
app.include_router(reporter.fastapi_router())


class Question(BaseModel):
    question: str = ""
    confirmed: bool = False


@app.post("/chat")
def chat(body: Question, background: BackgroundTasks) -> dict[str, Any]:
    state: State = {"question": body.question, "found": [], "answer": "", "confirmed": body.confirmed}
    result = graph.invoke(state, config={"callbacks": [callbacks]})
    request_id = request_id_var.get()
    events = [{"type": "tool", "name": name, "success": True} for name in tools_called()]
    # EventPush: the same request's events, after the response (the sidecar joins them to its audit entry).
    background.add_task(sidecar.push_events_sync, request_id, reporter.manifest["metadata"]["name"], events)
    return {"answer": result["answer"], "requestId": request_id}


if __name__ == "__main__":
    uvicorn.run(app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8000")))  # noqa: S104
