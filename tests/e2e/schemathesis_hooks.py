"""Schemathesis hooks (SCHEMATHESIS_HOOKS=schemathesis_hooks) for the rules of Mail Send that
JSON Schema cannot state and that /openapi.json gives in words instead."""
import schemathesis


@schemathesis.hook
def filter_body(context, body):
    """SendGrid's duplicate-address rule: one address at most once across to, cc and bcc of a
    personalization, compared case-insensitively (documented on `personalizations` items).
    A generated body that breaks it is not valid input, so it is not sent as such."""
    operation = context.operation
    if operation is None or operation.path != "/v3/mail/send" or not isinstance(body, dict):
        return True
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list):
        return True
    for p in personalizations:
        if not isinstance(p, dict):
            continue
        emails = [a.get("email").lower() for key in ("to", "cc", "bcc") if isinstance(p.get(key), list)
                  for a in p[key] if isinstance(a, dict) and isinstance(a.get("email"), str)]
        if len(emails) != len(set(emails)):
            return False
    return True


@schemathesis.hook
def map_query(context, query):
    """The stats routes' period rule (in the `end_date` description): `end_date` not before
    `start_date` and at most 1095 days after it; `end_date` alone defaults to today. Random dates
    rarely meet it, so a generated period that breaks it is made into the one-day period of
    `start_date` rather than filtered out."""
    operation = context.operation
    if operation is None or operation.path not in ("/v3/stats", "/v3/user/settings/enforced_tls/stats"):
        return query
    if not isinstance(query, dict) or not isinstance(query.get("start_date"), str):
        return query
    import datetime
    try:
        start = datetime.date.fromisoformat(query["start_date"])
        end = datetime.date.fromisoformat(query["end_date"]) if isinstance(query.get("end_date"), str) else \
            datetime.datetime.now(datetime.timezone.utc).date()
    except ValueError:
        return query
    if not (start <= end and (end - start).days <= 1095):
        query = dict(query, end_date=query["start_date"])
    return query
