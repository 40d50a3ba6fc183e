//! A region's state survives the loss of its Redis primary: a primary, a replica and three
//! sentinels (real `redis-server` processes, `--sentinel` for the sentinels), two gateways
//! that find the primary through the sentinels, and a rush of a thousand patients on a hundred
//! tickets during which the primary is killed (`SIGKILL`) or paused (`SIGSTOP`) past the
//! sentinels' timeout. Every ticket is booked once at the МИС, every patient's last answer is
//! true, and writes resume within the failover time and a stated margin
//! (`registratura_e2e::failover` runs it).

use registratura_e2e::failover::{RESUME_WITHIN, rush_through};

/// The rush through a failover by `signal`, and every check.
async fn rush_through_failover(signal: &str) {
    let Some(rush) = rush_through(signal).await else {
        return;
    };
    let (cluster, sandbox, gateways, tokens, told) = (
        &rush.cluster,
        &rush.sandbox,
        &rush.gateways,
        &rush.tokens,
        &rush.told,
    );
    assert!(
        rush.check.contains("отвечают 3 из 3 Sentinel")
            && rush
                .check
                .contains(&format!("127.0.0.1:{}", cluster.primary_port))
            && rush
                .check
                .contains(&format!("127.0.0.1:{}", cluster.replica_port)),
        "{}",
        rush.check
    );
    assert!(
        rush.said_failing_over,
        "/readyz says the store is failing over"
    );
    assert!(
        rush.status_said_failing_over,
        "and the status page, to an operator"
    );
    let (lost_at, started) = (rush.lost_at, rush.started);
    // Every answer is a ticket, `slot_taken`, or a 503 with Retry-After followed by more (the
    // state store failing over: `state_unavailable`; the МИС's own limits under the rush).
    let mut booked = std::collections::BTreeMap::new();
    let mut unavailable = 0;
    for (i, t) in told.iter().enumerate() {
        for (n, (status, what)) in t.answers.iter().enumerate() {
            let last = n + 1 == t.answers.len();
            match (*status, what.as_str()) {
                (201, id) if last => {
                    assert!(booked.insert(id.to_owned(), i).is_none(), "{id} twice");
                }
                (409, "slot_taken") if last => {}
                // Any 503 came with Retry-After (else the patient would have stopped there).
                (503, _) if !last => unavailable += 1,
                (409, "request_in_progress" | "idempotency_key_in_use") if !last => {}
                other => panic!("patient {i} was told {other:?}: {:?}", t.answers),
            }
        }
    }
    // Each ticket booked once at the МИС, and the patients told so hold them.
    let held = sandbox.store().booked_slots().expect("read");
    assert_eq!(held.len(), 100, "every ticket booked once");
    assert_eq!(booked.len(), 100, "a hundred patients told their ticket");
    for (ticket, i) in booked.iter().take(20) {
        let mine = gateways[i % 2].my_tickets(&tokens[*i]).await;
        assert!(
            mine.iter().any(|m| &m.id == ticket),
            "patient {i}'s {ticket}"
        );
    }
    // Writes resumed: the last booking of the rush came within the failover's bound.
    let last_booked = told
        .iter()
        .filter(|t| t.answers.last().is_some_and(|a| a.0 == 201))
        .map(|t| t.at)
        .max()
        .expect("bookings");
    let resumed = last_booked.saturating_duration_since(lost_at);
    eprintln!(
        "{signal}: {} patients, {unavailable} answers 503 while failing over, the last ticket \
         {resumed:?} after the primary was lost (rush {:?})",
        told.len(),
        started.elapsed()
    );
    assert!(resumed < RESUME_WITHIN, "writes resumed after {resumed:?}");
    // The gateways follow the new primary: a new write goes through.
    let (_, free) = gateways[1].free_slot("Хирургия").await;
    let r = gateways[1].book(&tokens[0], &free.id, None).await;
    assert_eq!(r.status(), 201);
    let metrics = registratura_e2e::metrics_text(&gateways[1].client, &gateways[1].base).await;
    assert!(
        registratura_e2e::metric(&metrics, "registratura_state_failovers_total") >= 1.0,
        "the failover is counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rush_through_the_primary_s_death_books_each_ticket_once_and_tells_the_truth() {
    rush_through_failover("-KILL").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rush_through_the_primary_s_pause_past_the_sentinels_timeout_tells_the_truth() {
    rush_through_failover("-STOP").await;
}
