from django.apps import AppConfig


class MdmConfig(AppConfig):
    name = "mdm"
    verbose_name = "Master data"

    def ready(self) -> None:
        _send_lists_in_binary()


def _send_lists_in_binary() -> None:
    """Send list parameters to PostgreSQL in binary.

    Django's bulk_create on PostgreSQL passes each column as one array (INSERT … SELECT FROM
    UNNEST), and psycopg's text array format escapes every quote of every JSON document with a
    regular expression: a batch run's golden records, events and history rows spent about a tenth
    of their time there. The binary format carries lengths instead (10,000 JSON documents: 0.9 s
    in text, 0.2 s in binary). Registered last, a dumper is the one `%s` placeholders use; the
    connections Django opens derive their adapters from this map. Binary parameters travel only
    with server-side binding, which the PostgreSQL settings turn on; with client-side binding
    lists are still quoted as text.
    """
    import psycopg
    from psycopg.types.array import ListBinaryDumper

    psycopg.adapters.register_dumper(list, ListBinaryDumper)
