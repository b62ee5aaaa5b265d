-- Staging views over `facts` (grain stated per view), and over the place's parameter tables
-- `place_services (service, need)`, loaded by projections.questions.prepare before these views.
-- Rules applied here and nowhere else: only the latest version of a record counts, and nothing
-- of a person who has objected (DOMAIN.md) reaches any answer.

-- Grain: one row per record (agency, recordref): its latest version; objectors' rows left out.
-- A table, not a view: every question reads it several times, and a view is recomputed each time.
create or replace table current_events as
with ranked as (
    select
        *,
        row_number() over (
            partition by agency, recordref
            order by recordversion desc, position desc
        ) as version_rank
    from facts
),

latest as (
    select * exclude (version_rank)
    from ranked
    where version_rank = 1
),

objectors as (
    select distinct person
    from latest
    where type = 'objection.recorded'
),

final as (
    select latest.*
    from latest
    where not exists (
        select 1 from objectors
        where objectors.person = latest.person
    )
)

select * from final;

-- Grain: one row per month from the first to the last month of any current event.
create or replace view calendar_months as
with bounds as (
    select
        min(cast(left(local_month, 4) as integer) * 12 + cast(right(local_month, 2) as integer))
        - 1 as first_index,
        max(cast(left(local_month, 4) as integer) * 12 + cast(right(local_month, 2) as integer))
        - 1 as last_index
    from current_events
),

final as (
    select
        month_index,
        printf('%04d-%02d', month_index // 12, month_index % 12 + 1) as month
    from bounds, range(first_index, last_index + 1) as months (month_index)
)

select * from final;

-- Grain: one row per month of every grid period (calendar and financial year) that the record
-- touches: the months a whole-record table lists, so that where the record starts and ends
-- shows no finer than the grid's years (a month of no events listed as any other).
create or replace view record_months as
with bounds as (
    select
        min(month_index) - min(month_index) % 12
        - case when min(month_index) % 12 < 3 then 9 else 0 end as first_index,
        max(month_index) - max(month_index) % 12
        + case when max(month_index) % 12 >= 3 then 14 else 11 end as last_index
    from calendar_months
),

final as (
    select printf('%04d-%02d', month_index // 12, month_index % 12 + 1) as month
    from bounds, range(first_index, last_index + 1) as months (month_index)
)

select * from final;

-- Grain: one row per current referral made.
create or replace view referrals as
select
    agency as from_agency,
    recordref as referral_ref,
    person,
    locality,
    need,
    to_agency,
    service,
    urgency,
    time as referred_at,
    local_month as referred_month,
    position,
    record_key
from current_events
where type = 'referral.made';

-- Grain: one row per current referral made, with its first response (accepted or declined).
create or replace view referral_outcomes as
with responses as (
    select
        referral_agency,
        referral_recordref,
        type = 'referral.declined' as is_declined,
        time as responded_at,
        local_month as responded_month,
        row_number() over (
            partition by referral_agency, referral_recordref
            order by time, event_id
        ) as response_rank
    from current_events
    where type in ('referral.accepted', 'referral.declined')
),

final as (
    select
        referrals.*,
        responses.is_declined,
        responses.responded_at,
        responses.responded_month
    from referrals
    left join responses
        on responses.referral_agency = referrals.from_agency
        and responses.referral_recordref = referrals.referral_ref
        and responses.response_rank = 1
)

select * from final;

-- Grain: one row per current referral declined (redirections included), with the need of the
-- referral it declines (NULL when that referral is not in the record).
create or replace view declines as
select
    declined.referral_agency as from_agency,
    declined.agency as to_agency,
    declined.person,
    declined.locality,
    declined.reason,
    declined.redirect_agency,
    declined.time as declined_at,
    declined.local_month as declined_month,
    declined.position,
    declined.event_id,
    declined.record_key,
    declined.person_key,
    referrals.need
from current_events as declined
left join referrals
    on referrals.from_agency = declined.referral_agency
    and referrals.referral_ref = declined.referral_recordref
where declined.type = 'referral.declined';

-- Grain: one row per current service started, with the referral it came from (if any).
create or replace view service_starts as
select
    started.agency,
    started.recordref,
    started.service,
    started.person,
    started.locality,
    started.time as started_at,
    started.local_month as started_month,
    started.position,
    started.record_key,
    referrals.from_agency as referral_agency,
    referrals.referral_ref,
    referrals.referred_at,
    referrals.need as referral_need
from current_events as started
left join referrals
    on referrals.from_agency = started.referral_agency
    and referrals.referral_ref = started.referral_recordref
where started.type = 'service.started';

-- Grain: one row per current service started or ended and each need it served: the need of its
-- referral, else every need the place lists for the service (one row with need NULL if none).
create or replace view service_needs as
with service_events as (
    select
        service_event.* exclude (need),
        referrals.need as referral_need
    from current_events as service_event
    left join referrals
        on referrals.from_agency = service_event.referral_agency
        and referrals.referral_ref = service_event.referral_recordref
    where service_event.type in ('service.started', 'service.ended')
),

final as (
    select
        service_events.* exclude (referral_need),
        coalesce(service_events.referral_need, place_services.need) as need
    from service_events
    left join place_services
        on service_events.referral_need is null
        and place_services.service = service_events.service
)

select * from final;
