"""Appointments: the counselling centre's calendar — counsellors' availability and the academic
calendar, students booking (心理咨询预约) with a pre-appointment check, the waitlist, the duty
roster (值班表) and the session notes (咨询记录) of each session held."""
