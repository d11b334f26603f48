"""The OpenAI routes the load generator drives."""

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
