package io.countersign.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * <p>Threading: {@link #append} may be called from any thread (event loops included) and never
 * blocks: it encodes the event, offers it to a bounded queue and returns. One dedicated thread,
 * {@value #WRITER_THREAD_NAME}, owns the Chronicle appender and the queue: Chronicle appenders are
 * single-threaded, and a single writer gives one total order without locks. It drains whatever is
 * queued in one go and completes each append's stage, <em>on the writer thread</em>, as soon as
 * that event is in the memory-mapped file. Callers must therefore continue with an {@code *Async}
 * variant on their own executor (the channel's event loop), never run slow work in a plain {@code
 * thenApply}: that would stall every other append.
 *
 * <p>The event is encoded on the caller's thread, so what is written is the event as it was when
 * {@code append} was called, even if the caller later changes the body.
 */
public final class ChronicleLedger implements Ledger {

  /** The name of the thread that writes the journal. */
  public static final String WRITER_THREAD_NAME = "countersign-ledger-writer";

  private static final Logger log = LoggerFactory.getLogger(ChronicleLedger.class);

  /** How long an idle writer waits before checking for close again (close also wakes it). */
  private static final long IDLE_POLL_MILLIS = 200;

  /** Texts of fewer UTF-8 bytes get a one-byte length code in Chronicle's binary wire. */
  private static final int SHORT_TEXT_LIMIT = 32;

  /**
   * Opening maps files and may create them; slow disks are slow, a hung one must not hang startup.
   */
  private static final long OPEN_TIMEOUT_SECONDS = 30;

  private final Path dir;
  private final LedgerOptions options;
  private final BlockingQueue<PendingAppend> pending;
  private final WriterHook hook;
  private final Redactor redactor;
  private final Thread writer;
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();

  /** Set by close(): no new appends are accepted. */
  private volatile boolean closed;

  /** Set once the writer has stopped: nothing queued from now on will ever be written. */
  private volatile boolean terminated;

  /** False after a failed write, until a later write succeeds. */
  private volatile boolean lastWriteSucceeded = true;

  // Writer thread only: the chain's state, set when the journal is opened.
  private HashChain chain;
  private long nextSeq;
  private byte[] prev;
  private final LineBuffer line = new LineBuffer(4096);
  private FileStore fileStore;
  private long writeBudget = Long.MAX_VALUE;
  private final TimeProvider timeProvider;

  private ChronicleLedger(
      Path dir, LedgerOptions options, WriterHook hook, TimeProvider timeProvider) {
    this.dir = dir;
    this.timeProvider = timeProvider;
    this.options = options;
    this.pending = new ArrayBlockingQueue<>(options.queueCapacity());
    this.hook = hook;
    this.redactor = new Redactor(options.redactHeaders());
    this.writer = new Thread(this::runWriter, WRITER_THREAD_NAME);
    // Not a daemon: the JVM must not exit with acknowledged-to-be-queued events unwritten.
    this.writer.setDaemon(false);
  }

  /**
   * Opens (creating if needed) the journal in {@code dir} and starts its writer thread. New events
   * go after any already in the directory.
   *
   * @throws LedgerUnavailableException when the journal cannot be opened
   */
  public static ChronicleLedger open(Path dir, LedgerOptions options) {
    return open(dir, options, WriterHook.NONE);
  }

  /** As {@link #open(Path, LedgerOptions)}, with a hook into the writer loop (for tests). */
  static ChronicleLedger open(Path dir, LedgerOptions options, WriterHook hook) {
    return open(dir, options, hook, SystemTimeProvider.INSTANCE);
  }

  /** As {@link #open(Path, LedgerOptions)}, with a writer hook and a clock for roll cycles. */
  static ChronicleLedger open(
      Path dir, LedgerOptions options, WriterHook hook, TimeProvider timeProvider) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(options, "options");
    ChronicleLedger ledger = new ChronicleLedger(dir, options, hook, timeProvider);
    ledger.writer.start();
    try {
      ledger.started.get(OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new LedgerUnavailableException(
          "cannot open ledger at " + dir + ": " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      ledger.closed = true;
      throw new LedgerUnavailableException("ledger at " + dir + " did not open in time", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ledger.close();
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
    PendingAppend p;
    try {
      Redactor.Result redacted = redactor.redact(event);
      p =
          new PendingAppend(
              LedgerEventCodec.toUtf8(redacted.event(), redacted.redacted()),
              new CompletableFuture<>());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(
          new LedgerUnavailableException("cannot encode ledger event", e));
    }
    if (!pending.offer(p)) {
      return CompletableFuture.failedFuture(
          new LedgerUnavailableException(
              "ledger queue full (" + options.queueCapacity() + " pending)"));
    }
    // close() may have run between the check above and the offer: if the writer is already gone,
    // nobody else will complete what is left, so do it here (the Dekker pair with close()).
    if (terminated) {
      failLeftovers();
    }
    return p.written();
  }

  @Override
  public boolean isWritable() {
    return !closed && lastWriteSucceeded && writer.isAlive();
  }

  /** How many appends are waiting for the writer (for metrics). */
  public int pendingCount() {
    return pending.size();
  }

  /**
   * Stops accepting appends, waits (up to {@link LedgerOptions#closeTimeout()}) for the writer to
   * write what was queued, then releases the journal. Idempotent.
   */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      // Wake an idle writer now rather than after its poll timeout; if the queue is full the
      // writer is busy and will see `closed` after this batch anyway.
      pending.offer(PendingAppend.WAKE_UP);
    }
    try {
      stopped.get(options.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.warn(
          "ledger writer did not finish within {}; {} queued events are failed, the writer "
              + "releases the journal when its current write returns",
          options.closeTimeout(),
          pending.size());
    } catch (ExecutionException e) {
      // Already logged by the writer.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    terminated = true;
    failLeftovers();
  }

  private void failLeftovers() {
    PendingAppend p;
    while ((p = pending.poll()) != null) {
      p.written().completeExceptionally(new LedgerUnavailableException("ledger closed"));
    }
  }

  // ---- writer thread only below this line ----

  private void runWriter() {
    WriterLock writerLock = null;
    SingleChronicleQueue queue = null;
    ExcerptAppender appender;
    try {
      writerLock = WriterLock.acquire(dir);
      HashChain chain = new HashChain(readKey(options.hmacKeyFile()));
      queue = JournalDirectory.openForAppend(dir, options.rollPeriod(), timeProvider);
      WriterLock.clearStaleChronicleLocks(queue);
      ChainHead head = ChainReading.head(queue);
      this.chain = chain;
      this.nextSeq = head == null ? 0 : head.seq() + 1;
      this.prev = (head == null ? HashChain.GENESIS : head.seal()).getBytes(StandardCharsets.US_ASCII);
      this.fileStore = Files.getFileStore(dir);
      appender = queue.createAppender();
      applyRetention(queue, appender);
    } catch (Throwable t) {
      if (queue != null) {
        queue.close();
      }
      if (writerLock != null) {
        writerLock.close();
      }
      started.completeExceptionally(t);
      stopped.complete(null);
      return;
    }
    started.complete(null);
    try {
      List<PendingAppend> batch = new ArrayList<>();
      int cycle = appender.cycle();
      while (true) {
        PendingAppend first = pending.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
        if (first != null) {
          batch.add(first);
          pending.drainTo(batch);
          hook.beforeBatch(batch.size());
          String full = diskFull();
          for (PendingAppend p : batch) {
            if (p == PendingAppend.WAKE_UP) {
              continue;
            }
            // A big batch can use more than the floor: look again once its budget is spent.
            long cost = p.json().length + 4096L;
            if (full == null && writeBudget < cost) {
              full = diskFull();
            }
            writeBudget -= cost;
            if (full != null) {
              refuse(p, full);
            } else {
              appender = write(queue, appender, p);
            }
          }
          batch.clear();
        } else if (closed) {
          break; // closed and nothing left: everything queued before close is written
        }
        if (appender != null && pending.isEmpty()) {
          // Idle: fault in the next page now, so the next append does not pay for it.
          pretouch(appender);
          if (appender.cycle() != cycle) {
            cycle = appender.cycle();
            applyRetention(queue, appender);
          }
        }
      }
    } catch (InterruptedException e) {
      log.warn("ledger writer interrupted; stopping");
    } catch (Throwable t) {
      log.error("ledger writer stopped unexpectedly", t);
    } finally {
      try {
        if (appender != null) {
          appender.close();
        }
        queue.close();
      } catch (Throwable t) {
        log.warn("error while closing ledger at {}", dir, t);
      } finally {
        writerLock.close();
      }
      // Whatever is still queued (a writer that died, or appends racing close) will never be
      // written: fail it now, and let late appends fail themselves (see append()).
      terminated = true;
      failLeftovers();
      stopped.complete(null);
    }
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

  private void refuse(PendingAppend p, String why) {
    if (lastWriteSucceeded) {
      log.error("{}", why);
    }
    lastWriteSucceeded = false;
    p.written().completeExceptionally(new LedgerUnavailableException(why));
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

  /**
   * Deletes whole roll cycles older than the newest {@link LedgerOptions#retainCycles()} files, and
   * records what it deleted as a {@link EventType#LEDGER_RETENTION} event.
   */
  private void applyRetention(SingleChronicleQueue queue, ExcerptAppender appender) {
    if (options.retainCycles() == 0) {
      return;
    }
    try {
      Retention.Deleted deleted = Retention.apply(queue, dir, options.retainCycles());
      if (deleted == null) {
        return;
      }
      log.info("ledger retention deleted {} at {}", deleted.files(), dir);
      LedgerEvent event = Retention.event(deleted, options.retainCycles(), timeProvider.currentTimeMillis());
      PendingAppend p =
          new PendingAppend(LedgerEventCodec.toUtf8(event, List.of()), new CompletableFuture<>());
      write(queue, appender, p);
    } catch (Throwable t) {
      log.error("ledger retention failed at {}", dir, t);
    }
  }

  /** Writes one event; returns the appender to use next (a fresh one after a failure). */
  private ExcerptAppender write(
      SingleChronicleQueue queue, ExcerptAppender appender, PendingAppend p) {
    try {
      hook.beforeWrite();
      if (appender == null) {
        appender = queue.createAppender();
      }
      byte[] seal = chain.seal(p.json(), nextSeq, prev, line);
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
      p.written().complete(index);
      return appender;
    } catch (Throwable t) {
      if (lastWriteSucceeded) {
        log.error("ledger write failed at {}", dir, t);
      }
      lastWriteSucceeded = false;
      p.written()
          .completeExceptionally(new LedgerUnavailableException("ledger write failed: " + t, t));
      // The appender may be in an unknown state; start over with a new one next time.
      if (appender != null) {
        try {
          appender.close();
        } catch (Throwable ignored) {
          // Already failing; the next write reports the real problem.
        }
      }
      // A write that died inside Chronicle (e.g. InternalError from a SIGBUS on a full disk)
      // leaves Chronicle's write lock set with our PID, and every later write would wait 15 s for
      // it and fail. This thread is the only writer (it holds the directory's writer lock), so the
      // lock is stale: clear it.
      try {
        WriterLock.clearStaleChronicleLocks(queue);
      } catch (Throwable ignored) {
        // Reported by the next write.
      }
      return null;
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

  /** An encoded event waiting for the writer, and the stage to complete with its index. */
  private record PendingAppend(byte[] json, CompletableFuture<Long> written) {
    static final PendingAppend WAKE_UP = new PendingAppend(new byte[0], new CompletableFuture<>());
  }

  /** A test seam into the writer loop. Called on the writer thread. */
  interface WriterHook {
    WriterHook NONE = batchSize -> {};

    /** Called with each batch before it is written. */
    void beforeBatch(int batchSize) throws InterruptedException;

    /** Called before each event is written, where a write failure is handled. */
    default void beforeWrite() {}
  }
}
