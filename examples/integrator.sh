#!/usr/bin/env bash
# An integrator's walk through the JSON API, against the sandbox (`cargo run --release`):
# book a ticket, move it, cancel it; join the waiting list and leave it; book by referral.
# Needs curl and python3 (for reading JSON). Usage: examples/integrator.sh [BASE_URL]
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
API=$BASE/api/v1/clinics/demo
JSON='content-type: application/json'

# `field EXPR`: evaluates EXPR over the JSON answer read from standard input (`d`).
field() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
say() { printf '%s\n' "$*"; }

# The directory: a specialty, its first doctor, the last day with free tickets, two times.
spec=$(curl -sf "$API/specialties" | field "[s['id'] for s in d['items'] if s['name'] == 'Офтальмология'][0]")
doctor=$(curl -sf "$API/specialties/$spec/doctors" | field "d['items'][0]['id']")
day=$(curl -sf "$API/doctors/$doctor/dates" | field "d['dates'][-1]")
slots=$(curl -sf "$API/doctors/$doctor/slots?date=$day")
first=$(printf '%s' "$slots" | field "d['items'][0]['id']")
second=$(printf '%s' "$slots" | field "d['items'][1]['id']")

# Identification: the sandbox's first test patient.
token=$(curl -sf -X POST "$API/sessions" -H "$JSON" \
  -d '{"document_number":"4510 123456","policy_number":"7700000000000001","birth_date":"1980-05-17"}' |
  field "d['token']")
AUTH="authorization: Bearer $token"

# Book, move (one step: the old ticket stays if the new time cannot be booked), cancel.
ticket=$(curl -sf -X POST "$API/tickets" -H "$AUTH" -H "$JSON" -H "Idempotency-Key: example-$RANDOM$RANDOM" \
  -d "{\"slot_id\":\"$first\"}" | field "d['id']")
say "booked $ticket"
moved=$(curl -sf -X POST "$API/tickets/$ticket/reschedule" -H "$AUTH" -H "$JSON" \
  -d "{\"slot_id\":\"$second\"}" | field "d['id'] + ' at ' + d['start']")
say "moved to $moved"
curl -sf -X DELETE "$API/tickets/${moved%% *}" -H "$AUTH"
say "cancelled"

# The waiting list: a specialty without tickets, a phone (never echoed), the request, withdrawn.
full=$(curl -sf "$API/specialties?include_unavailable=true" |
  field "[s['id'] for s in d['items'] if s['free_tickets'] == 0][0]")
request=$(curl -sf -X POST "$API/waiting-list" -H "$AUTH" -H "$JSON" \
  -d "{\"specialty_id\":\"$full\",\"phone\":\"+7 916 123-45-67\"}" | field "d['id'] + ' ' + d['reason']")
say "on the waiting list: $request"
curl -sf "$API/waiting-list" -H "$AUTH" | field "len(d['items'])" >/dev/null
curl -sf -X DELETE "$API/waiting-list/${request%% *}" -H "$AUTH"
say "withdrawn"

# A referral: what it allows, its times, a booking by it, moved to another of its times
# (the visit keeps its referral), cancelled (which frees the referral).
curl -sf "$API/referrals/0000000001" -H "$AUTH" |
  field "'referral to ' + d['specialty']['name'] + ', valid until ' + d['valid_until']"
referral_slots=$(curl -sf "$API/referrals/0000000001/slots" -H "$AUTH")
by_referral=$(printf '%s' "$referral_slots" | field "d['items'][0]['id']")
later=$(printf '%s' "$referral_slots" | field "d['items'][1]['id']")
ticket=$(curl -sf -X POST "$API/tickets" -H "$AUTH" -H "$JSON" \
  -d "{\"slot_id\":\"$by_referral\",\"referral\":\"0000000001\"}" | field "d['id']")
say "booked by referral $ticket"
ticket=$(curl -sf -X POST "$API/tickets/$ticket/reschedule" -H "$AUTH" -H "$JSON" \
  -d "{\"slot_id\":\"$later\"}" | field "d['id'] if d['referral'] == '0000000001' else ''")
say "moved, by the same referral: $ticket"
curl -sf -X DELETE "$API/tickets/$ticket" -H "$AUTH"
curl -sf -X DELETE "$API/sessions/current" -H "$AUTH"
say "ALL FLOWS OK"
