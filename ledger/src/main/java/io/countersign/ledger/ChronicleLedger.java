package io.countersign.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.core.time.SystemTimeProvider;
import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.util.MicroTouched;
import net.openhft.chronicle.wire.BinaryWireCode;
import net.openhft.chronicle.wire.DocumentContext;
import net.openhft.chronicle.wire.WireOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Ledger} on a Chronicle Queue in one directory: one document per event, each holding
 * the event's one-line JSON ({@link LedgerEventCodec}).
 *
 * <p>Threading: {@link #append} runs on the caller's thread (event loops included) and returns a
 * stage that is already complete: the event is encoded outside any lock, then, under one lock, sealed
 * into the hash chain and copied into the memory-mapped file (a few microseconds: a memory copy and a
 * SHA-256). One lock gives one total order, which the chain needs; Chronicle's appender is used by
 * one thread at a time under it. There is no hand-off to a writer thread: at ~17,000 exchanges a
 * second, two hand-offs per exchange (to a writer and back) cost more CPU than the writes did. A
 * background thread, {@value #HOUSEKEEPER_THREAD_NAME}, opens the journal, faults in the next pages
 * ahead of the writers, and applies retention when a new roll cycle starts.
 *
 * <p>What can make an append slow: the first write of a new roll cycle creates and maps its file
 * (once per roll period, milliseconds); a write to a page the kernel must find memory for (the
 * housekeeper touches pages ahead to avoid that); a write to a page the file system must prepare or
 * is writing back (measured on ext4 at 2,000 exchanges a second: p99.9 ~19 ms with the ledger on
 * disk, ~4 ms on tmpfs; docs/performance.md). The append does no I/O itself: the kernel writes the
 * mapped file back.
 *
 * <p>The event is encoded when {@code append} is called, so what is written is the event as it
 * was then, even if the caller later changes the body.
 */
public final class ChronicleLedger implements Ledger {

  /** The name of the thread that opens the journal and keeps it (pretouch, retention). */
  public static final String HOUSEKEEPER_THREAD_NAME = "countersign-ledger-housekeeper";

  private static final Logger log = LoggerFactory.getLogger(ChronicleLedger.class);

  /** How often the housekeeper touches pages ahead and looks for a new roll cycle. */
  private static final long HOUSEKEEPING_PERIOD_MILLIS = 10;

  /** The free space is read at least this often (in housekeeping periods: 100 ms). */
  private static final long FREE_SPACE_EVERY_TICKS = 10;

  /**
   * Each appending thread encodes into its own buffer, sealed from there without a copy (the
   * encoding and its copy were ~17 % of the bytes the event loop allocated).
   */
  private static final ThreadLocal<LineBuffer> ENCODED = ThreadLocal.withInitial(() -> new LineBuffer(4096));

  /** A thread's encoding buffer grown past this is dropped after use. */
  private static final int MAX_KEPT_BUFFER = 256 * 1024;

  /** Texts of fewer UTF-8 bytes get a one-byte length code in Chronicle's binary wire. */
  private static final int SHORT_TEXT_LIMIT = 32;

  /**
   * Opening maps files and may create them; slow disks are slow, a hung one must not hang startup.
   */
  private static final long OPEN_TIMEOUT_SECONDS = 30;

  private final Path dir;
  private final LedgerOptions options;
  private final WriterHook hook;
  private final Redactor redactor;
  private final Thread housekeeper;
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private final TimeProvider timeProvider;

  /** Guards everything below it, and the order of the chain. */
  private final ReentrantLock lock = new ReentrantLock();

  /** Set by close(): no new appends are accepted. */
  private volatile boolean closed;

  /** False after a failed write, until a later write succeeds. */
  private volatile boolean lastWriteSucceeded = true;

  private WriterLock writerLock;
  private SingleChronicleQueue queue;
  private ExcerptAppender appender;
  private HashChain chain;
  private long nextSeq;
  private byte[] prev;
  private FileStore fileStore;
  /** Bytes that may be written before the free space is read again (0: read it first). */
  private long writeBudget;
  /** The roll cycle retention last looked at. */
  private int retainedCycle;
  private final LineBuffer line = new LineBuffer(4096);

  private ChronicleLedger(
      Path dir, LedgerOptions options, WriterHook hook, TimeProvider timeProvider) {
    this.dir = dir;
    this.timeProvider = timeProvider;
    this.options = options;
    this.hook = hook;
    this.redactor = new Redactor(options.redactHeaders());
    this.housekeeper = new Thread(this::runHousekeeper, HOUSEKEEPER_THREAD_NAME);
    this.housekeeper.setDaemon(true);
  }

  /**
   * Opens (creating if needed) the journal in {@code dir} and starts its housekeeper. New events go
   * after any already in the directory.
   *
   * @throws LedgerUnavailableException when the journal cannot be opened
   */
  public static ChronicleLedger open(Path dir, LedgerOptions options) {
    return open(dir, options, WriterHook.NONE);
  }

  /** As {@link #open(Path, LedgerOptions)}, with a hook into the write path (for tests). */
  static ChronicleLedger open(Path dir, LedgerOptions options, WriterHook hook) {
    return open(dir, options, hook, SystemTimeProvider.INSTANCE);
  }

  /** As {@link #open(Path, LedgerOptions)}, with a write hook and a clock for roll cycles. */
  static ChronicleLedger open(
      Path dir, LedgerOptions options, WriterHook hook, TimeProvider timeProvider) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(options, "options");
    ChronicleLedger ledger = new ChronicleLedger(dir, options, hook, timeProvider);
    ledger.housekeeper.start();
    try {
      ledger.started.get(OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new LedgerUnavailableException(
          "cannot open ledger at " + dir + ": " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      ledger.closed = true;
      ledger.housekeeper.interrupt();
      throw new LedgerUnavailableException("ledger at " + dir + " did not open in time", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ledger.closed = true;
      ledger.housekeeper.interrupt();
      throw new LedgerUnavailableException("interrupted while opening ledger at " + dir, e);
    }
    log.info("ledger open at {} (roll period {})", dir.toAbsolutePath(), options.rollPeriod());
    return ledger;
  }

  /** The directory holding the journal. */
  public Path directory() {
    return dir;
  }

  @Override
  public CompletionStage<Long> append(LedgerEvent event) {
    Objects.requireNonNull(event, "event");
    if (closed) {
      return CompletableFuture.failedFuture(new LedgerUnavailableException("ledger closed"));
    }
    LineBuffer encoded = ENCODED.get();
    try {
      Redactor.Result redacted = redactor.redact(event);
      LedgerEventCodec.toUtf8(event, redacted.body(), redacted.redacted(), encoded);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(
          new LedgerUnavailableException("cannot encode ledger event", e));
    }
    try {
      lock.lock();
      try {
        if (closed) {
          return CompletableFuture.failedFuture(new LedgerUnavailableException("ledger closed"));
        }
        return write(encoded.array(), encoded.length());
      } finally {
        lock.unlock();
      }
    } finally {
      if (encoded.capacity() > MAX_KEPT_BUFFER) {
        ENCODED.remove(); // a rare huge event: do not keep its buffer for ever
      }
    }
  }

  @Override
  public boolean isWritable() {
    return !closed && lastWriteSucceeded; // a ledger exists only once open() has succeeded
  }

  /**
   * Stops accepting appends, waits (up to {@link LedgerOptions#closeTimeout()}) for an append in
   * progress to finish, then releases the journal. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    housekeeper.interrupt();
    boolean locked = false;
    try {
      locked = lock.tryLock(options.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!locked) {
      log.warn("an append to the ledger at {} did not finish within {}; closing anyway", dir,
          options.closeTimeout());
    }
    try {
      release();
    } finally {
      if (locked) {
        lock.unlock();
      }
    }
  }

  /** Closes the appender, the queue and the writer lock, once. Under the lock. */
  private void release() {
    try {
      if (appender != null) {
        appender.close();
      }
      if (queue != null) {
        queue.close();
      }
    } catch (Throwable t) {
      log.warn("error while closing ledger at {}", dir, t);
    } finally {
      appender = null;
      queue = null;
      if (writerLock != null) {
        writerLock.close();
        writerLock = null;
      }
    }
  }

  // ---- the housekeeper ----

  private void runHousekeeper() {
    lock.lock();
    try {
      openJournal();
    } catch (Throwable t) {
      release();
      started.completeExceptionally(t);
      return;
    } finally {
      lock.unlock();
    }
    if (closed) {
      // open() gave up waiting: nobody will close this ledger
      lock.lock();
      try {
        release();
      } finally {
        lock.unlock();
      }
      return;
    }
    started.complete(null);
    try {
      for (long tick = 1; !closed; tick++) {
        Thread.sleep(HOUSEKEEPING_PERIOD_MILLIS);
        boolean newCycle = false;
        lock.lock();
        try {
          if (closed) {
            break;
          }
          if (tick % FREE_SPACE_EVERY_TICKS == 0) {
            // Someone else may be filling the disk: read the free space again, not only when
            // this ledger's own budget is spent.
            writeBudget = 0;
          }
          if (appender != null) {
            pretouch(appender);
            newCycle = appender.cycle() != retainedCycle;
            retainedCycle = appender.cycle();
          }
        } finally {
          lock.unlock();
        }
        if (newCycle) {
          applyRetention();
        }
      }
    } catch (InterruptedException e) {
      // close()
    } catch (Throwable t) {
      log.error("ledger housekeeping stopped unexpectedly at {}", dir, t);
    }
  }

  private void openJournal() throws IOException {
    writerLock = WriterLock.acquire(dir);
    chain = new HashChain(readKey(options.hmacKeyFile()));
    queue = JournalDirectory.openForAppend(dir, options.rollPeriod(), timeProvider);
    WriterLock.clearStaleChronicleLocks(queue);
    ChainHead head = ChainReading.head(queue);
    nextSeq = head == null ? 0 : head.seq() + 1;
    prev = (head == null ? HashChain.GENESIS : head.seal()).getBytes(StandardCharsets.US_ASCII);
    fileStore = Files.getFileStore(dir);
    appender = newAppender();
    retainedCycle = appender.cycle();
    if (options.retainCycles() > 0) {
      Retention.Deleted deleted = Retention.apply(queue, dir, options.retainCycles());
      if (deleted != null) {
        recordRetention(deleted);
      }
    }
  }

  private ExcerptAppender newAppender() {
    ExcerptAppender a = queue.createAppender();
    // Appenders check that one thread uses them; the lock guarantees one at a time.
    a.singleThreadedCheckDisabled(true);
    return a;
  }

  private static byte[] readKey(Path file) throws IOException {
    if (file == null) {
      return null;
    }
    byte[] key = Files.readAllBytes(file);
    int n = key.length;
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r')) {
      n--; // a key file written by echo or an editor ends with a newline that is not key
    }
    if (n == 0) {
      throw new IllegalArgumentException("the ledger HMAC key file " + file + " is empty");
    }
    return Arrays.copyOf(key, n);
  }

  /**
   * Deletes whole roll cycles older than the newest {@link LedgerOptions#retainCycles()} files, and
   * records what it deleted as a {@link EventType#LEDGER_RETENTION} event. Housekeeper only.
   */
  private void applyRetention() {
    if (options.retainCycles() == 0) {
      return;
    }
    try {
      SingleChronicleQueue q;
      lock.lock();
      try {
        q = queue;
      } finally {
        lock.unlock();
      }
      if (q == null) {
        return;
      }
      Retention.Deleted deleted = Retention.apply(q, dir, options.retainCycles());
      if (deleted != null) {
        lock.lock();
        try {
          if (!closed) {
            recordRetention(deleted);
          }
        } finally {
          lock.unlock();
        }
      }
    } catch (Throwable t) {
      log.error("ledger retention failed at {}", dir, t);
    }
  }

  /** Under the lock. */
  private void recordRetention(Retention.Deleted deleted) {
    log.info("ledger retention deleted {} at {}", deleted.files(), dir);
    LedgerEvent event =
        Retention.event(deleted, options.retainCycles(), timeProvider.currentTimeMillis());
    byte[] json = LedgerEventCodec.toUtf8(event, List.of());
    write(json, json.length);
  }

  private static void pretouch(ExcerptAppender appender) {
    if (appender instanceof MicroTouched touched) {
      try {
        touched.microTouch();
      } catch (RuntimeException e) {
        // Pretouching is an optimization; a real problem shows on the next write.
      }
    }
  }

  // ---- under the lock ----

  /** Why nothing can be written now (too little free space), or {@code null}. */
  private String diskFull() {
    if (options.minFreeBytes() == 0) {
      return null;
    }
    try {
      long free = fileStore.getUsableSpace();
      writeBudget = free - options.minFreeBytes();
      if (free < options.minFreeBytes()) {
        return "ledger disk full: "
            + free
            + " bytes free at "
            + dir
            + ", below the floor of "
            + options.minFreeBytes()
            + "; nothing is written until space is freed";
      }
      return null;
    } catch (IOException e) {
      return "cannot read the free space at " + dir + ": " + e;
    }
  }

  /** Writes one encoded event; the stage says its index, or why it was not written. */
  private CompletableFuture<Long> write(byte[] json, int length) {
    // The free space is read again once the budget the last reading allowed is spent.
    long cost = length + 4096L;
    String full = writeBudget < cost ? diskFull() : null;
    if (full != null) {
      if (lastWriteSucceeded) {
        log.error("{}", full);
      }
      lastWriteSucceeded = false;
      return CompletableFuture.failedFuture(new LedgerUnavailableException(full));
    }
    writeBudget -= cost;
    try {
      hook.beforeWrite();
      if (appender == null) {
        appender = newAppender();
      }
      byte[] seal = chain.seal(json, length, nextSeq, prev, line);
      try (DocumentContext dc = appender.writingDocument()) {
        try {
          writeText(dc.wire(), line);
        } catch (Throwable t) {
          dc.rollbackOnClose();
          throw t;
        }
      }
      long index = appender.lastIndexAppended();
      // Only a written event moves the chain: a failed write is retried with the same link.
      nextSeq++;
      prev = seal;
      if (!lastWriteSucceeded) {
        log.info("ledger writes succeed again at {}", dir);
      }
      lastWriteSucceeded = true;
      return CompletableFuture.completedFuture(index);
    } catch (Throwable t) {
      if (t instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (lastWriteSucceeded) {
        log.error("ledger write failed at {}", dir, t);
      }
      lastWriteSucceeded = false;
      // The appender may be in an unknown state; start over with a new one next time.
      if (appender != null) {
        try {
          appender.close();
        } catch (Throwable ignored) {
          // Already failing; the next write reports the real problem.
        }
        appender = null;
      }
      // A write that died inside Chronicle (e.g. InternalError from a SIGBUS on a full disk)
      // leaves Chronicle's write lock set with our PID, and every later write would wait 15 s for
      // it and fail. This ledger holds the directory's writer lock and appends under its own lock,
      // so Chronicle's lock is stale: clear it.
      try {
        WriterLock.clearStaleChronicleLocks(queue);
      } catch (Throwable ignored) {
        // Reported by the next write.
      }
      return CompletableFuture.failedFuture(
          new LedgerUnavailableException("ledger write failed: " + t, t));
    }
  }

  /**
   * Writes a stored line as a wire text value, exactly as {@code getValueOut().text(String)} would
   * (code {@link BinaryWireCode#STRING_ANY}, stop-bit length, UTF-8 bytes; shorter texts have
   * their own codes, and no sealed line is that short), but from bytes in one copy: Chronicle's text() encodes a String
   * char by char, with a thread check per byte, which was a third of the proxy's CPU under load.
   * Chronicle stores a character outside the BMP as two 3-byte surrogates, where UTF-8 has one
   * 4-byte sequence; a line holding one (rare: an emoji in a body) goes through {@code text}.
   */
  static void writeText(WireOut wire, LineBuffer line) {
    if (line.length() < SHORT_TEXT_LIMIT || line.hasFourByteSequence()) {
      wire.getValueOut().text(new String(line.array(), 0, line.length(), StandardCharsets.UTF_8));
      return;
    }
    Bytes<?> bytes = wire.bytes();
    bytes.writeUnsignedByte(BinaryWireCode.STRING_ANY);
    bytes.writeStopBit(line.length());
    bytes.write(line.array(), 0, line.length());
  }

  /** A test seam into the write path. Called under the write lock, on the appending thread. */
  interface WriterHook {
    WriterHook NONE = () -> {};

    /** Called before each event is written, where a write failure is handled. */
    void beforeWrite() throws InterruptedException;
  }
}
