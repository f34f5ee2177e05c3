"""`iap logout`: drop the saved tokens (the gateway, user and CA stay for the next login).

A running `iap connect` of the same home notices at its next client connection and answers
it "not logged in".
"""

from __future__ import annotations

from agent.errors import AgentError
from agent.output import say
from agent.state import AgentState


def logout() -> None:
    try:
        state = AgentState.load()
    except AgentError:
        say("not logged in")
        return
    state.forget()
    say(f"logged out of {state.gateway}")
