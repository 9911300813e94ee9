import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import {
  McapIndexedReader,
  McapStreamReader,
  type Channel,
  type DecompressHandlers,
  type IReadable,
  type Schema,
} from '@mcap/core';
import { FileHandleReadable } from '@mcap/nodejs';
import { loadDecompressHandlers } from '@mcap/support';
import { MessageDecoder, type DecodeCounters } from './decoder.js';
import { DEFAULT_DISTRO, type BuiltinDistro } from './definitions.js';
import {
  BagFormatError,
  BagTruncatedError,
  type BagMessage,
  type BagMessagesOptions,
  type BagReader,
  type BagTopic,
} from './reader.js';

interface ChannelState {
  readonly channel: Channel;
  readonly schema: Schema | undefined;
  decoder: MessageDecoder | undefined;
}

/** Options of {@link McapBagReader.open}. */
export interface McapBagReaderOptions {
  /** Built-in definitions for channels without a schema (default `jazzy`). */
  readonly distro?: BuiltinDistro;
}

let decompressHandlers: Promise<DecompressHandlers> | undefined;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Most bytes one read may ask for (fs reads take an int32 length; nothing in a bag is larger). */
const MAX_READ = 2 ** 31 - 1;

/**
 * A file for McapIndexedReader that refuses reads past its end or beyond 2 GiB. Lengths and offsets
 * come from the file itself: a corrupt one (a header "length" of 2^40) must be an error, not an
 * allocation of that size or a read that aborts the process (node asserts on an fs.read length
 * beyond int32).
 */
export class BoundedFileReadable implements IReadable {
  readonly #inner: FileHandleReadable;
  readonly #size: bigint;
  readonly #path: string;

  private constructor(handle: FileHandle, size: bigint, path: string) {
    this.#inner = new FileHandleReadable(handle);
    this.#size = size;
    this.#path = path;
  }

  static async create(handle: FileHandle, path: string): Promise<BoundedFileReadable> {
    return new BoundedFileReadable(handle, BigInt((await handle.stat()).size), path);
  }

  size(): Promise<bigint> {
    return Promise.resolve(this.#size);
  }

  read(offset: bigint, length: bigint): Promise<Uint8Array> {
    if (offset < 0n || length < 0n || offset + length > this.#size) {
      return Promise.reject(
        new Error(
          `${this.#path}: a read of ${length} bytes at offset ${offset} goes past the end of the file (${this.#size} bytes)`,
        ),
      );
    }
    if (length > BigInt(MAX_READ)) {
      return Promise.reject(new Error(`${this.#path}: a record of ${length} bytes is too large to read`));
    }
    return this.#inner.read(offset, length);
  }
}

/**
 * Reads ROS 2 MCAP files (CDR messages, `ros2msg` schemas, or built-in definitions for channels
 * without one). Indexed files are read through their chunk index in log-time order; files without
 * an index (written without a summary, or cut short) are streamed start to end, in the order they
 * were written, and a file that ends inside a record throws {@link BagTruncatedError} after the
 * last complete message.
 */
export class McapBagReader implements BagReader {
  readonly path: string;
  readonly storage = 'mcap' as const;
  readonly #handle: FileHandle;
  readonly #indexed: McapIndexedReader | null;
  readonly #handlers: DecompressHandlers;
  readonly #distro: BuiltinDistro;
  readonly #counters: DecodeCounters = { normalizedStamps: 0 };
  #scannedTopics: BagTopic[] | undefined;

  private constructor(
    path: string,
    handle: FileHandle,
    indexed: McapIndexedReader | null,
    handlers: DecompressHandlers,
    distro: BuiltinDistro,
  ) {
    this.path = path;
    this.#handle = handle;
    this.#indexed = indexed;
    this.#handlers = handlers;
    this.#distro = distro;
  }

  /** Opens an MCAP file; falls back to streaming when it has no usable index. */
  static async open(path: string, options: McapBagReaderOptions = {}): Promise<McapBagReader> {
    decompressHandlers ??= loadDecompressHandlers();
    const handlers = await decompressHandlers;
    const handle = await open(path, 'r');
    try {
      let indexed: McapIndexedReader | null = null;
      try {
        indexed = await McapIndexedReader.Initialize({
          readable: await BoundedFileReadable.create(handle, path),
          decompressHandlers: handlers,
        });
        // Messages outside chunks are invisible to the indexed reader.
        if (indexed.chunkIndexes.length === 0) indexed = null;
      } catch {
        indexed = null;
      }
      return new McapBagReader(path, handle, indexed, handlers, options.distro ?? DEFAULT_DISTRO);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Whether the file is read through its index (false: streamed). */
  get indexed(): boolean {
    return this.#indexed !== null;
  }

  get normalizedStamps(): number {
    return this.#counters.normalizedStamps;
  }

  async topics(): Promise<readonly BagTopic[]> {
    const indexed = this.#indexed;
    if (indexed) {
      return [...indexed.channelsById.values()].map((channel) => {
        const statistics = indexed.statistics;
        // Writers leave channels without messages out of the counts.
        const count = statistics ? (statistics.channelMessageCounts.get(channel.id) ?? 0n) : undefined;
        return {
          name: channel.topic,
          schemaName: indexed.schemasById.get(channel.schemaId)?.name ?? '',
          messageEncoding: channel.messageEncoding,
          messageCount: count === undefined ? undefined : Number(count),
        };
      });
    }
    if (!this.#scannedTopics) {
      const counts = new Map<number, number>();
      const topics = new Map<number, ChannelState>();
      // A truncated file lists the topics and counts of its complete part.
      for await (const record of this.#stream({ tolerateTruncation: true })) {
        if (record.type === 'Channel') topics.set(record.state.channel.id, record.state);
        else counts.set(record.channelId, (counts.get(record.channelId) ?? 0) + 1);
      }
      this.#scannedTopics = [...topics.values()].map(({ channel, schema }) => ({
        name: channel.topic,
        schemaName: schema?.name ?? '',
        messageEncoding: channel.messageEncoding,
        messageCount: counts.get(channel.id) ?? 0,
      }));
    }
    return this.#scannedTopics;
  }

  async *messages(options: BagMessagesOptions = {}): AsyncGenerator<BagMessage> {
    const wanted = options.topics ? new Set(options.topics) : null;
    const indexed = this.#indexed;
    if (indexed) {
      const states = new Map<number, ChannelState>();
      for (const channel of indexed.channelsById.values()) {
        states.set(channel.id, {
          channel,
          schema: indexed.schemasById.get(channel.schemaId),
          decoder: undefined,
        });
      }
      const topics = wanted ? [...wanted] : undefined;
      let read = 0;
      const iterator = indexed.readMessages({ topics });
      while (true) {
        let next: IteratorResult<{ channelId: number; logTime: bigint; data: Uint8Array }>;
        try {
          next = await iterator.next();
        } catch (error) {
          throw new BagFormatError(`${this.path}: cannot read message ${read + 1}: ${reason(error)}`);
        }
        if (next.done) return;
        const message = next.value;
        const state = states.get(message.channelId);
        if (!state) throw new BagFormatError(`${this.path}: message on unknown channel ${message.channelId}`);
        read += 1;
        yield this.#decode(state, message);
      }
    }
    for await (const record of this.#stream({ tolerateTruncation: false })) {
      if (record.type === 'Channel') continue;
      if (wanted && !wanted.has(record.state.channel.topic)) continue;
      yield this.#decode(record.state, record);
    }
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }

  #decode(state: ChannelState, message: { readonly logTime: bigint; readonly data: Uint8Array }): BagMessage {
    const { channel, schema } = state;
    state.decoder ??= MessageDecoder.create(
      {
        path: this.path,
        topic: channel.topic,
        schemaName: schema?.name ?? '',
        messageEncoding: channel.messageEncoding,
        schemaEncoding: schema?.encoding ?? '',
        schemaText: schema ? new TextDecoder().decode(schema.data) : '',
        distro: this.#distro,
      },
      this.#counters,
    );
    return {
      topic: channel.topic,
      logTimeNs: message.logTime,
      schemaName: state.decoder.schemaName,
      message: state.decoder.decode(message.data, `${this.path}: topic ${channel.topic}`),
    };
  }

  /** Streams the file's channels and messages, in file order. */
  async *#stream(options: {
    tolerateTruncation: boolean;
  }): AsyncGenerator<
    | { type: 'Channel'; state: ChannelState }
    | { type: 'Message'; channelId: number; state: ChannelState; logTime: bigint; data: Uint8Array }
  > {
    const schemas = new Map<number, Schema>();
    const states = new Map<number, ChannelState>();
    const reader = new McapStreamReader({ decompressHandlers: this.#handlers });
    let messages = 0;
    let bytes = 0;
    for await (const chunk of createReadStream(this.path) as AsyncIterable<Buffer>) {
      bytes += chunk.byteLength;
      reader.append(chunk);
      while (true) {
        let record;
        try {
          record = reader.nextRecord();
        } catch (error) {
          throw new BagFormatError(
            `${this.path}: not a readable MCAP file after ${messages} messages: ${reason(error)}`,
          );
        }
        if (!record) break;
        if (record.type === 'Schema') schemas.set(record.id, record);
        else if (record.type === 'Channel') {
          if (states.has(record.id)) continue; // repeated in the summary
          const state: ChannelState = {
            channel: record,
            schema: schemas.get(record.schemaId),
            decoder: undefined,
          };
          states.set(record.id, state);
          yield { type: 'Channel', state };
        } else if (record.type === 'Message') {
          const state = states.get(record.channelId);
          if (!state) {
            throw new BagFormatError(`${this.path}: message on unknown channel ${record.channelId}`);
          }
          messages += 1;
          yield {
            type: 'Message',
            channelId: record.channelId,
            state,
            logTime: record.logTime,
            data: record.data,
          };
        }
      }
    }
    if (!reader.done() && !options.tolerateTruncation) {
      const remaining = reader.bytesRemaining();
      const where = remaining > 0 ? `inside a record (${remaining} bytes of it)` : 'without its footer';
      throw new BagTruncatedError(
        `${this.path}: truncated MCAP file: it ends after ${bytes} bytes ${where}, after ${messages} complete messages`,
        messages,
      );
    }
  }
}
