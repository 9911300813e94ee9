import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BUILTIN_DISTROS, type BuiltinDistro } from './definitions.js';
import { McapBagReader } from './mcap-reader.js';
import {
  BagFormatError,
  type BagMessage,
  type BagMessagesOptions,
  type BagReader,
  type BagStorage,
  type BagTopic,
} from './reader.js';
import { Sqlite3BagReader } from './sqlite-reader.js';

/** A topic as metadata.yaml lists it. */
export interface Rosbag2TopicInfo {
  readonly name: string;
  readonly type: string;
  readonly serializationFormat: string;
  readonly messageCount: number;
}

/** What `metadata.yaml` (`rosbag2_bagfile_information`) says about a bag. */
export interface Rosbag2Metadata {
  readonly version: number;
  /** `sqlite3` or `mcap`. */
  readonly storageIdentifier: string;
  /** Files in recording order, relative to the folder. */
  readonly relativeFilePaths: readonly string[];
  readonly messageCount: number;
  readonly startingTimeNs: bigint;
  readonly durationNs: bigint;
  readonly topics: readonly Rosbag2TopicInfo[];
  /** '' when not compressed; `zstd` otherwise. */
  readonly compressionFormat: string;
  /** '' when not compressed; `FILE` or `MESSAGE`. */
  readonly compressionMode: string;
  /** ros_distro (metadata v6 and later); '' when absent. */
  readonly rosDistro: string;
}

const METADATA_FILE = 'metadata.yaml';

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function bigintOf(value: unknown): bigint {
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.trunc(value));
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
  return 0n;
}

/** Parses the text of a rosbag2 `metadata.yaml`; `where` names it in errors. */
export function parseRosbag2Metadata(text: string, where: string): Rosbag2Metadata {
  let document: unknown;
  try {
    // Stamps exceed 2^53: read integers as bigint.
    document = parseYaml(text, { intAsBigInt: true });
  } catch (error) {
    throw new BagFormatError(
      `${where}: not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  const info = asRecord(asRecord(document).rosbag2_bagfile_information);
  if (Object.keys(info).length === 0) {
    throw new BagFormatError(
      `${where}: not a rosbag2 metadata file (no 'rosbag2_bagfile_information' mapping)`,
    );
  }
  const storage = String(info.storage_identifier ?? '');
  const files = Array.isArray(info.relative_file_paths) ? info.relative_file_paths.map(String) : [];
  const topics = (Array.isArray(info.topics_with_message_count) ? info.topics_with_message_count : []).map(
    (entry: unknown): Rosbag2TopicInfo => {
      const record = asRecord(entry);
      const topic = asRecord(record.topic_metadata);
      return {
        name: String(topic.name ?? ''),
        type: String(topic.type ?? ''),
        serializationFormat: String(topic.serialization_format ?? ''),
        messageCount: Number(bigintOf(record.message_count)),
      };
    },
  );
  return {
    version: Number(bigintOf(info.version)),
    storageIdentifier: storage,
    relativeFilePaths: files,
    messageCount: Number(bigintOf(info.message_count)),
    startingTimeNs: bigintOf(asRecord(info.starting_time).nanoseconds_since_epoch),
    durationNs: bigintOf(asRecord(info.duration).nanoseconds),
    topics,
    compressionFormat: String(info.compression_format ?? ''),
    compressionMode: String(info.compression_mode ?? ''),
    rosDistro: String(info.ros_distro ?? ''),
  };
}

const STORAGE_BY_EXTENSION: Readonly<Record<string, BagStorage>> = { '.mcap': 'mcap', '.db3': 'sqlite3' };

/** Split index of a rosbag2 file name (`name_3.db3` -> 3), for ordering folders without metadata. */
function splitIndex(name: string): number {
  const match = /_(\d+)\.(?:mcap|db3)$/.exec(name);
  return match ? Number(match[1]) : -1;
}

/**
 * Reads a rosbag2 bag folder: `metadata.yaml` and the storage files it lists (MCAP or sqlite3,
 * one or several split files), read one after the other in recording order as rosbag2's sequential
 * reader does. A folder without `metadata.yaml` (a recording that did not finish) is read from its
 * `.mcap` / `.db3` files in split-index order. Compressed bags are refused with a clear error.
 */
export class Rosbag2BagReader implements BagReader {
  /** The bag folder. */
  readonly path: string;
  readonly storage: BagStorage;
  /** Parsed metadata.yaml; null for a folder without one. */
  readonly metadata: Rosbag2Metadata | null;
  /** Absolute paths of the storage files, in reading order. */
  readonly files: readonly string[];
  /** Built-in definitions named by metadata.yaml's ros_distro; undefined: each file's own (or the default). */
  readonly #distro: BuiltinDistro | undefined;
  #normalizedStamps = 0;
  #open: BagReader | undefined;
  #topics: readonly BagTopic[] | undefined;

  private constructor(
    path: string,
    storage: BagStorage,
    metadata: Rosbag2Metadata | null,
    files: readonly string[],
    distro: BuiltinDistro | undefined,
  ) {
    this.path = path;
    this.storage = storage;
    this.metadata = metadata;
    this.files = files;
    this.#distro = distro;
  }

  /**
   * Opens a bag folder. Throws BagFormatError for a folder with neither metadata.yaml nor bag files,
   * an unknown storage, a compressed bag, or a listed file that is missing.
   */
  static async open(folder: string): Promise<Rosbag2BagReader> {
    const metadataPath = join(folder, METADATA_FILE);
    let text: string | undefined;
    try {
      text = await readFile(metadataPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text === undefined) return Rosbag2BagReader.#withoutMetadata(folder);
    const metadata = parseRosbag2Metadata(text, metadataPath);
    if (metadata.compressionMode !== '' || metadata.compressionFormat !== '') {
      throw new BagFormatError(
        `${folder}: the bag is compressed (${metadata.compressionFormat || '?'}, mode ${metadata.compressionMode || '?'}); decompress it first (ros2 bag convert, or zstd -d on each file)`,
      );
    }
    const storage: BagStorage | undefined =
      metadata.storageIdentifier === 'sqlite3'
        ? 'sqlite3'
        : metadata.storageIdentifier === 'mcap'
          ? 'mcap'
          : undefined;
    if (!storage) {
      throw new BagFormatError(
        `${metadataPath}: storage '${metadata.storageIdentifier}' is not read (only sqlite3 and mcap)`,
      );
    }
    if (metadata.relativeFilePaths.length === 0)
      throw new BagFormatError(`${metadataPath}: lists no bag files`);
    // As rosbag2 resolves them: before metadata version 4 the paths start with the bag folder's name.
    const base = metadata.version < 4 ? dirname(folder) : folder;
    const files = metadata.relativeFilePaths.map((file) => (isAbsolute(file) ? file : join(base, file)));
    for (const [i, file] of files.entries()) {
      try {
        await stat(file);
      } catch {
        throw new BagFormatError(
          `${metadataPath} (version ${metadata.version}) lists ${metadata.relativeFilePaths[i]}, which is not at ${file}`,
        );
      }
    }
    const distro = (BUILTIN_DISTROS as readonly string[]).includes(metadata.rosDistro)
      ? (metadata.rosDistro as BuiltinDistro)
      : undefined;
    return new Rosbag2BagReader(folder, storage, metadata, files, distro);
  }

  static async #withoutMetadata(folder: string): Promise<Rosbag2BagReader> {
    const names = (await readdir(folder)).filter(
      (name) => STORAGE_BY_EXTENSION[name.slice(name.lastIndexOf('.'))],
    );
    const storages = new Set(names.map((name) => STORAGE_BY_EXTENSION[name.slice(name.lastIndexOf('.'))]));
    if (names.length === 0 || storages.size !== 1) {
      throw new BagFormatError(
        names.length === 0
          ? `${folder}: not a rosbag2 folder: no ${METADATA_FILE} and no .mcap or .db3 file`
          : `${folder}: no ${METADATA_FILE}, and both .mcap and .db3 files: which is the bag is unclear`,
      );
    }
    names.sort((a, b) => splitIndex(a) - splitIndex(b) || a.localeCompare(b));
    return new Rosbag2BagReader(
      folder,
      [...storages][0] as BagStorage,
      null,
      names.map((name) => join(folder, name)),
      undefined,
    );
  }

  get normalizedStamps(): number {
    return this.#normalizedStamps + (this.#open?.normalizedStamps ?? 0);
  }

  /** Topics from metadata.yaml; for a folder without one, merged from its files. */
  async topics(): Promise<readonly BagTopic[]> {
    if (this.#topics) return this.#topics;
    if (this.metadata) {
      this.#topics = this.metadata.topics.map((t) => ({
        name: t.name,
        schemaName: t.type,
        messageEncoding: t.serializationFormat,
        messageCount: t.messageCount,
      }));
      return this.#topics;
    }
    const merged = new Map<string, BagTopic>();
    for (const file of this.files) {
      const reader = await this.#openFile(file);
      try {
        for (const topic of await reader.topics()) {
          const known = merged.get(topic.name);
          merged.set(topic.name, {
            ...topic,
            messageCount:
              known === undefined
                ? topic.messageCount
                : known.messageCount === undefined || topic.messageCount === undefined
                  ? undefined
                  : known.messageCount + topic.messageCount,
          });
        }
      } finally {
        await reader.close();
      }
    }
    this.#topics = [...merged.values()];
    return this.#topics;
  }

  async *messages(options: BagMessagesOptions = {}): AsyncGenerator<BagMessage> {
    for (const file of this.files) {
      const reader = await this.#openFile(file);
      this.#open = reader;
      try {
        yield* reader.messages(options);
      } finally {
        this.#normalizedStamps += reader.normalizedStamps;
        this.#open = undefined;
        await reader.close();
      }
    }
  }

  async close(): Promise<void> {
    await this.#open?.close();
    this.#open = undefined;
  }

  async #openFile(file: string): Promise<BagReader> {
    const options = this.#distro ? { distro: this.#distro } : {};
    return this.storage === 'mcap' ? McapBagReader.open(file, options) : Sqlite3BagReader.open(file, options);
  }
}
