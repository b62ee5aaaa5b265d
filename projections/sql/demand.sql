-- Grain: one row per month and chosen cuts (locality, agency, sector, need) over demand events.
-- demand: referrals made and contacts recorded, counted as events, in the month (place zone) of
-- the event. Each event's unit key is its record's (record_key). agency and sector are the recording agency's (the referrer's, for a referral);
-- locality is the person's on the event; need is the event's own need.
with demand_events as (
    select
        position,
        local_month as month,
        locality,
        agency,
        sector,
        need,
        record_key,
        type = 'referral.made' as is_referral
    from current_events
    where type in ('referral.made', 'contact.recorded')
),

in_period as (
    select * from demand_events
    where month between $period_from and $period_to
),

final as (
    select
        {{ dims }}
        count(*) filter (where is_referral) as count_referrals,
        count(*) filter (where not is_referral) as count_contacts,
        sum(record_key) filter (where is_referral) as key_referrals,
        sum(record_key) filter (where not is_referral) as key_contacts
    from in_period
    group by all
)

select * from final
