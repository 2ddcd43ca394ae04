"""Privacy: the data's whole life under PIPL — consent withdrawn, records kept only as long as
the retention schedule says, erasure on request, a student's own copy, and the records of
processing the impact assessment reads."""
