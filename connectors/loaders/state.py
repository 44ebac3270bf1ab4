"""Reading the stored watermark of a stream, before its extract starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.dialects import dialect_for
from connectors.loaders.prepare import split_table

if TYPE_CHECKING:
    from connectors.dialects.base import Address


def read_state(url: Address, table: str, pipeline: str, stream: str) -> dict[str, str]:
    """The committed state of a stream (empty before its first load).

    The state lives beside the target table (same schema), in `_dagsmith_state`.
    """
    native = dialect_for(url).native(url)
    if native is not None:
        return native.read_state(table, pipeline, stream)
    # SQLAlchemy only for a target its driver alone does not reach (a SQLite run: never).
    import sqlalchemy as sa

    from connectors.loaders import tables
    from connectors.loaders.sql import translate

    url = sa.make_url(url)
    schema, _ = split_table(table)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    state = tables.state_table(tables.new_metadata(dialect_for(url).name), schema)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(state.name, schema=schema):
                return {}
            mine = (state.c.pipeline == pipeline, state.c.stream == stream)
            rows = conn.execute(sa.select(state.c.key, state.c.value).where(*mine))
            return {key: value for key, value in rows}
    except sa.exc.DBAPIError as exc:
        where = f"reading the watermark of {stream!r} from {url.render_as_string(True)}"
        raise translate(exc, where) from exc
    finally:
        engine.dispose()
