import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from agentspec import AgentSpecReporter

reporter = AgentSpecReporter.from_yaml("agent.yaml").register_tool("plan-workout")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    reporter.start()  # checks every 30 s; registers itself when AGENTSPEC_CONTROL_PLANE_URL is set
    if os.environ.get("AGENTSPEC_URL"):  # push mode (seed 000): an asyncio task on this loop
        reporter.start_push_mode(url=os.environ["AGENTSPEC_URL"], api_key=os.environ["AGENTSPEC_KEY"])
    yield
    reporter.stop_push_mode()
    reporter.stop()


app = FastAPI(lifespan=lifespan)
app.include_router(reporter.fastapi_router())  # GET /agentspec/health
