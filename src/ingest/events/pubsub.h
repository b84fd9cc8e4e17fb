/* The Pub/Sub pull source: one thread per `pubsub` source pulls a Google
 * Pub/Sub subscription over its REST API (v1 :pull), appends the messages to
 * the collector's WAL (attributes, messageId, publishTime and ordering key
 * kept; data decoded to text when it is UTF-8), waits until that record is
 * durable, and only then calls :acknowledge, so a crash at any point leaves a
 * message either in the WAL or still unacknowledged (Pub/Sub redelivers it;
 * the loader flags a redelivered messageId as a duplicate). Works against the
 * emulator (`gcloud beta emulators pubsub start`) and the real service (with
 * `token:` a bearer token). */
#ifndef IG_EVENTS_PUBSUB_H
#define IG_EVENTS_PUBSUB_H

#include "ingest/events/events.h"
#include "ingest/events/wal.h"

typedef struct ig_ev_pubsub ig_ev_pubsub;

/* Start a puller for every enabled pubsub source of cfg (borrowed until
 * stop). Caller stops with ig_ev_pubsub_stop (also when there is none). */
ig_rc ig_ev_pubsub_start(const ig_ev_config *cfg, ig_wal *wal, ig_ev_pubsub **out, ig_error *err);
/* Stop and join the threads (a pull in flight ends within a few seconds);
 * NULL is fine. */
void ig_ev_pubsub_stop(ig_ev_pubsub *p);
/* Messages appended (durable) and acknowledged, over all sources. */
uint64_t ig_ev_pubsub_received(ig_ev_pubsub *p);

#endif
