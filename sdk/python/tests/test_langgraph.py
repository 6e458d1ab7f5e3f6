"""The LangGraph integration with the real langgraph package, on a graph of plain Python functions (no model)."""

from __future__ import annotations

from typing import Any, TypedDict

from fastapi import FastAPI
from fastapi.testclient import TestClient
from langgraph.graph import END, START, StateGraph

from agentspec.langgraph import (
    AgentSpecCallbackHandler,
    AgentSpecMiddleware,
    SidecarClient,
    confirm_user,
    guardrails_invoked,
    record_tool_call,
    request_id_var,
)

from .http_recorder import recording_server


class State(TypedDict):
    text: str
    plan: str


def check_pii(state: State) -> dict[str, Any]:
    return {"text": state["text"].replace("@", " at ")}


def plan_workout(state: State) -> dict[str, Any]:
    return {"plan": f"plan for {state['text']}"}


def log_workout(state: State) -> dict[str, Any]:
    if "delete" in state["text"]:
        confirm_user()
        record_tool_call("delete-history")
    return {}


def build_graph() -> Any:
    graph = StateGraph(State)
    graph.add_node("check_pii", check_pii)
    graph.add_node("plan-workout", plan_workout)
    graph.add_node("log-workout", log_workout)
    graph.add_edge(START, "check_pii")
    graph.add_edge("check_pii", "plan-workout")
    graph.add_edge("plan-workout", "log-workout")
    graph.add_edge("log-workout", END)
    return graph.compile()


MANIFEST = {"spec": {"tools": [{"name": "plan-workout"}, {"name": "log-workout"}, {"name": "delete-history"}]}}


def make_app() -> FastAPI:
    graph = build_graph()
    handler = AgentSpecCallbackHandler.for_manifest(MANIFEST, guardrails={"check_pii": "pii-detector"})
    app = FastAPI()
    app.add_middleware(AgentSpecMiddleware)

    @app.post("/chat")
    def chat(body: dict[str, str]) -> dict[str, Any]:
        result = graph.invoke({"text": body["text"], "plan": ""}, config={"callbacks": [handler]})
        return {"plan": result["plan"], "requestId": request_id_var.get(), "guardrails": guardrails_invoked()}

    @app.get("/plain")
    def plain() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def test_the_middleware_sends_what_the_graph_did_as_the_sidecars_headers() -> None:
    with TestClient(make_app()) as client:
        answer = client.post("/chat", json={"text": "me@example.com"}, headers={"x-request-id": "req-1"})
        assert answer.status_code == 200
        assert answer.json()["requestId"] == "req-1"
        assert answer.headers["x-agentspec-tools-called"] == "plan-workout,log-workout"
        assert answer.headers["x-agentspec-guardrails-invoked"] == "pii-detector"
        assert "x-agentspec-user-confirmed" not in answer.headers

        destructive = client.post("/chat", json={"text": "delete my history"})
        assert destructive.headers["x-agentspec-tools-called"] == "plan-workout,log-workout,delete-history"
        assert destructive.headers["x-agentspec-user-confirmed"] == "true"
        assert destructive.json()["requestId"]  # generated without the sidecar

        plain = client.get("/plain")
        assert not [h for h in plain.headers if h.startswith("x-agentspec-")]


def test_records_do_not_leak_between_requests() -> None:
    with TestClient(make_app()) as client:
        client.post("/chat", json={"text": "delete it"})
        again = client.post("/chat", json={"text": "run"})
        assert again.headers["x-agentspec-tools-called"] == "plan-workout,log-workout"


def test_sidecar_client_pushes_events_and_never_raises() -> None:
    with recording_server() as sidecar:
        sidecar.answers = [(200, {"content-type": "application/json"}, b'{"found":true}')]
        events = [{"type": "tool", "name": "plan-workout", "success": True, "latencyMs": 82}]
        response = SidecarClient(sidecar.url).push_events_sync("req-9", "fitness-coach", events)
        assert response is not None and response.status_code == 200
        request = sidecar.wait_for(1)[0]
        assert (request.method, request.path) == ("POST", "/agentspec/events")
        assert request.json() == {"requestId": "req-9", "agentName": "fitness-coach", "events": events}
    assert SidecarClient("http://127.0.0.1:9").push_events_sync("r", "a", []) is None
