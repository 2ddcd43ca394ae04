"""Casework: the centre's work on one student at a time — the student file (一生一档),
post-screening interviews, crisis records, contacts with families and printed documents."""
