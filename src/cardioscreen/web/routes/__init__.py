"""One router per resource: sign-in, studies, the doctors' queue, administration, and the JSON API."""
