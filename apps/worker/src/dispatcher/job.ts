import type { TDeviceDictionary, TJobDefinition, TMultinodeRequest, TMultinodeResponse } from "@magma/protocol";
import type { JobLog } from "./job-log.ts";
import type { ConsoleSession, ExpectPattern } from "../connections/console-session.ts";
import type { QemuProcess } from "./actions/boot/qemu-process.ts";
import type { TftpServer } from "../services/tftp-server.ts";
import type { HttpFileServer } from "../services/http-file-server.ts";
import type { ImageCache } from "./image-cache.ts";

/** One MultiNode coordination call to the instance (the worker API's `jobs/<id>/multinode/`). */
export type MultinodeCall = (request: TMultinodeRequest, signal: AbortSignal) => Promise<TMultinodeResponse>;

/** A listener for DUT console lines: the raw line and its job log line number. */
export type ConsoleLineListener = (line: string, logLine: number) => void;

/**
 * Everything one job run shares between its actions (LAVA's `Job` + the pipeline's namespace
 * data): ids, parsed definition and device dictionary, the job log, where images landed, the
 * running DUT (QEMU process and console) for finalize to power off.
 */
export interface JobContext {
  jobId: number;
  /** `<MAGMA_WORKER_DIR>/jobs/<id>`, removed at the end of the job. */
  jobDir: string;
  definition: TJobDefinition;
  device: TDeviceDictionary;
  log: JobLog;
  /** Image name (`kernel`, `initrd` …) → local file path, filled by deploy. */
  images: Map<string, string>;
  /** Image name → its `image_arg` from the deploy action (`-kernel {kernel} …`). */
  imageArgs: Map<string, string>;
  /** Prompts of the last boot action, for the test shell. */
  prompts?: ExpectPattern[];
  /** The gzip'd cpio overlay (LAVA helpers + test definitions), when the job has test actions. */
  overlayPath?: string;
  /** The gzip'd overlay tarball for `transfer_overlay` (LAVA's compress-overlay output). */
  overlayTarballPath?: string;
  /**
   * Where DUTs download the overlay over HTTP (`transfer_overlay`): `ip` goes in the URL (LAVA's
   * dispatcher_ip), the server listens on `bind` (default `ip`) and `port` (0 = a free port).
   * Default: the TFTP address.
   */
  overlayHttp?: { ip: string; bind?: string; port?: number };
  /** The job's HTTP server (transfer_overlay), closed by finalize. */
  http?: HttpFileServer;
  qemu?: QemuProcess;
  console?: ConsoleSession;
  /** Set once a power command switched the DUT on: finalize then runs `power_off_command`. */
  poweredOn?: boolean;
  /** The job's TFTP server (deploy `to: tftp`), closed by finalize. */
  tftp?: TftpServer;
  /** Where the job's TFTP server listens and DUTs fetch from: `{SERVER_IP}` and the UDP port (0 = any free port). */
  tftpBind: { ip: string; port: number };
  /** Listeners fed with every console line after it is logged (the test shell's signal parser). */
  lineListeners: Set<ConsoleLineListener>;
  /** Absolute job deadline (epoch ms) from `timeouts.job`. */
  jobDeadlineMs: number;
  /** Name of the worker, for messages. */
  workerName: string;
  /**
   * Largest image a deploy may download, in bytes, both as downloaded and once decompressed
   * (`MAGMA_WORKER_MAX_DOWNLOAD_BYTES`); default 8 GiB (`DEFAULT_MAX_DOWNLOAD_BYTES`).
   */
  maxDownloadBytes?: number;
  /** The worker's image cache (MAGMA_WORKER_IMAGE_CACHE_BYTES > 0): images revalidated by conditional GET. */
  imageCache?: ImageCache;
  /** MultiNode sub-jobs: relays the test shell's lava-send/-wait/-wait-all/-sync to the instance. */
  multinode?: MultinodeCall;
  /** Test cases the job may still report (`MAGMA_WORKER_MAX_TEST_CASES`), shared by its test actions; none = no limit. */
  caseBudget?: { remaining: number; max: number };
}

/** Overlay directory on the DUT: `/lava-<job id>` as in LAVA. */
export function lavaDir(jobId: number): string {
  return `/lava-${jobId}`;
}
