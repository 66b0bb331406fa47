"""Schemas every app's API shares: one class each, so the OpenAPI document has one component per name."""

from ninja import Field, Schema
from pydantic import ConfigDict


class InputSchema(Schema):
    """A request body: an unknown key is refused (422 naming it) rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(Schema):
    limit: int = Field(100, ge=1, description="每页条数，默认 100，至多 500（超过按 500）")
    offset: int = Field(0, ge=0, description="跳过的条数")
