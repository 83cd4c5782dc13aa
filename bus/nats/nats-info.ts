import type { ConsumerInfo, JetStreamManager } from 'nats';
import type { BusConsumerInfo, BusInfo, BusNames } from '../bus.port.ts';
import { countMessages } from './nats-read.ts';

function consumerInfo(c: ConsumerInfo): BusConsumerInfo {
  const filters = c.config.filter_subjects?.length
    ? c.config.filter_subjects
    : c.config.filter_subject
      ? [c.config.filter_subject]
      : [];
  return {
    name: c.name,
    filterSubjects: filters,
    pending: c.num_pending,
    ackPending: c.num_ack_pending,
    redelivered: c.num_redelivered,
    ackFloor: c.ack_floor.stream_seq,
    delivered: c.delivered.stream_seq,
  };
}

/** Stream state, per-subject counts, consumers and the dead-letter count, for operators. */
export async function natsBusInfo(jsm: JetStreamManager, names: BusNames): Promise<BusInfo> {
  const info = await jsm.streams.info(names.eventsStream, { subjects_filter: '>' });
  const consumers: ConsumerInfo[] = [];
  for await (const c of jsm.consumers.list(names.eventsStream)) consumers.push(c);
  return {
    stream: {
      name: names.eventsStream,
      messages: info.state.messages,
      bytes: info.state.bytes,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
    },
    subjects: { ...(info.state.subjects ?? {}) },
    consumers: consumers.map(consumerInfo).sort((a, b) => a.name.localeCompare(b.name)),
    deadLetters: await countMessages(jsm, names.deadLetterStream, `${names.subjectPrefix}.dlq.>`),
  };
}
