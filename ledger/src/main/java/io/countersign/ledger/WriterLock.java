package io.countersign.ledger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.TableStoreWriteLock;
import net.openhft.chronicle.queue.impl.table.AbstractTSQueueLock;
import net.openhft.chronicle.threads.Pauser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer per ledger directory, and recovery of Chronicle's write locks after a crash.
 *
 * <p>Chronicle Queue guards appends with a lock word in {@code metadata.cq4t} holding the PID of
 * the writer. A process killed in the middle of an append leaves it set. Chronicle frees it only
 * when that PID is dead; in a container the restarted proxy usually gets the <em>same</em> PID (1),
 * so Chronicle sees its own PID, thinks the lock is held by a live process, waits 15 s and fails
 * with "Lock was held by current process". A PID cannot tell two incarnations apart; an operating
 * system file lock can: it is released by the kernel when its holder dies, whatever the PIDs.
 *
 * <p>So the ledger takes an exclusive {@code flock} on {@value #FILE_NAME} in the directory before
 * opening the journal. Holding it proves no other live process (or other ledger in this JVM) writes
 * here, so any Chronicle write lock still set is stale, and is cleared at once, loudly.
 */
final class WriterLock implements AutoCloseable {

  /** The lock file in the ledger directory. */
  static final String FILE_NAME = "countersign-writer.lock";

  /** Chronicle's lock words in the directory metadata. */
  private static final String[] CHRONICLE_LOCK_KEYS = {
    "chronicle.write.lock", TableStoreWriteLock.APPEND_LOCK_KEY
  };

  private static final Logger log = LoggerFactory.getLogger(WriterLock.class);

  private final FileChannel channel;
  private final FileLock lock;

  private WriterLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the directory's writer lock, creating the directory if needed.
   *
   * @throws LedgerUnavailableException when another process or another ledger in this process
   *     holds it
   */
  static WriterLock acquire(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(FILE_NAME);
    FileChannel channel =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      channel.close();
      throw new LedgerUnavailableException(
          "the ledger at " + dir + " is already open for writing in this process");
    }
    if (lock == null) {
      String holder = holder(channel);
      channel.close();
      throw new LedgerUnavailableException(
          "the ledger at " + dir + " is open for writing by another process" + holder
              + "; one ledger directory has one writer");
    }
    byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
    channel.truncate(0);
    channel.write(ByteBuffer.wrap(pid), 0);
    return new WriterLock(channel, lock);
  }

  private static String holder(FileChannel channel) {
    try {
      ByteBuffer b = ByteBuffer.allocate(32);
      channel.read(b, 0);
      String pid = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).strip();
      return pid.isEmpty() ? "" : " (pid " + pid + " in its PID namespace)";
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * Clears Chronicle write locks left set by a dead writer. Call with the writer lock held, before
   * the first appender is created.
   *
   * @return how many locks were cleared
   */
  static int clearStaleChronicleLocks(SingleChronicleQueue queue) {
    int cleared = 0;
    for (String key : CHRONICLE_LOCK_KEYS) {
      try (TableStoreWriteLock l =
          new TableStoreWriteLock(queue.metaStore(), Pauser::balanced, 0L, key)) {
        long holder = l.lockedBy();
        if (holder != AbstractTSQueueLock.UNLOCKED) {
          log.warn(
              "ledger at {}: clearing Chronicle's {} left set by pid {} (a writer that died "
                  + "mid-append; this process holds the ledger's writer lock, so no live writer "
                  + "has it)",
              queue.fileAbsolutePath(),
              key,
              (int) holder);
          l.forceUnlock();
          cleared++;
        }
      }
    }
    return cleared;
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      log.warn("cannot release the ledger writer lock", e);
    }
  }
}
