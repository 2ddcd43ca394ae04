"""Recovery: hospital referrals, leave and return-to-school plans, referral closure metrics."""
