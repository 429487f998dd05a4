package io.countersign.proxy.policyload;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the policy when a file under its folder changes. Changes are debounced (an editor or a
 * ConfigMap update writes several files) and a reload only happens when the revision changed. One
 * daemon thread.
 */
public final class PolicyWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyWatcher.class);
  private static final Duration DEBOUNCE = Duration.ofMillis(300);

  private final WatchService watch;
  private final Thread thread;

  /** Starts watching {@code dir} (and its subfolders) and reloading through {@code reloader}. */
  public PolicyWatcher(Path dir, PolicyReloader reloader) throws IOException {
    this.watch = FileSystems.getDefault().newWatchService();
    register(dir);
    this.thread = new Thread(() -> run(dir, reloader), "countersign-policy-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void register(Path dir) throws IOException {
    try (var dirs = Files.walk(dir)) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) {
        d.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
            StandardWatchEventKinds.ENTRY_DELETE);
      }
    }
  }

  private void run(Path dir, PolicyReloader reloader) {
    try {
      while (true) {
        WatchKey key = watch.take();
        key.pollEvents();
        key.reset();
        // debounce: drain further events until the folder is quiet
        for (WatchKey more; (more = watch.poll(DEBOUNCE.toMillis(), TimeUnit.MILLISECONDS)) != null; ) {
          more.pollEvents();
          more.reset();
        }
        register(dir); // new subfolders
        reloader.reload("file change", false);
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closing
    } catch (IOException | RuntimeException e) {
      LOG.error("the policy watcher stopped: {}", e.toString());
    }
  }

  @Override
  public void close() throws IOException {
    thread.interrupt();
    watch.close();
  }
}
