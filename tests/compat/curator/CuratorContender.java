// A Curator 5.4 contender for tests/compat/curator_recipes_test.ts: contends with Corral's recipes
// on one server, appending what it does to a shared ledger file, then (for most scenarios) holds on
// and waits to be killed. Run as a single-file program: java -cp <curator and zookeeper jars>
// CuratorContender.java <connect> <scenario> <path> <ledger> <rounds> <sessionTimeoutMs>.
// Prints READY once connected, HOLDING when it holds for good (the test then kills it) and DONE
// when it has finished.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.retry.RetryNTimes;

public class CuratorContender {
    static Path ledger;
    static final String WHO = "java";

    static synchronized void note(String event) throws Exception {
        // One small O_APPEND write per line: lines from both processes interleave whole, in real order.
        Files.write(ledger, (event + " " + WHO + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
    }

    static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        String scenario = args[1];
        String path = args[2];
        ledger = Path.of(args[3]);
        int rounds = Integer.parseInt(args[4]);
        int sessionTimeoutMs = Integer.parseInt(args[5]);
        CuratorFramework client = CuratorFrameworkFactory.newClient(connect, sessionTimeoutMs, 15000, new RetryNTimes(20, 250));
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("not connected to " + connect);
        say("READY");
        switch (scenario) {
            case "mutex": exclusive(new InterProcessMutex(client, path), "lock", rounds); break;
            case "write": exclusive(new InterProcessReadWriteLock(client, path).writeLock(), "write", rounds); break;
            case "read": exclusive(new InterProcessReadWriteLock(client, path).readLock(), "read", rounds); break;
            case "semaphore": semaphore(new InterProcessSemaphoreV2(client, path, 2), rounds); break;
            case "latch": latch(new LeaderLatch(client, path, WHO)); break;
            case "queue": queue(client, path, rounds); break;
            default: throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }

    /** `rounds` holds of 30 ms, then a last hold kept until the process is killed. */
    static void exclusive(InterProcessLock lock, String kind, int rounds) throws Exception {
        for (int i = 0; i < rounds; i++) {
            lock.acquire();
            note("enter-" + kind);
            Thread.sleep(30);
            note("exit-" + kind);
            lock.release();
            Thread.sleep(5);
        }
        lock.acquire();
        note("enter-" + kind);
        say("HOLDING");
        Thread.sleep(Long.MAX_VALUE);
    }

    static void semaphore(InterProcessSemaphoreV2 semaphore, int rounds) throws Exception {
        for (int i = 0; i < rounds; i++) {
            Lease lease = semaphore.acquire();
            note("enter-lease");
            Thread.sleep(30);
            note("exit-lease");
            semaphore.returnLease(lease);
            Thread.sleep(5);
        }
        semaphore.acquire();
        note("enter-lease");
        say("HOLDING");
        Thread.sleep(Long.MAX_VALUE);
    }

    static void latch(LeaderLatch latch) throws Exception {
        latch.start();
        latch.await();
        note("leader");
        say("HOLDING");
        Thread.sleep(Long.MAX_VALUE);
    }

    /** Puts `rounds` items "java-<i>" on a Curator DistributedQueue (Corral's takes them). */
    static void queue(CuratorFramework client, String path, int rounds) throws Exception {
        QueueSerializer<String> serializer = new QueueSerializer<String>() {
            public byte[] serialize(String item) { return item.getBytes(StandardCharsets.UTF_8); }
            public String deserialize(byte[] bytes) { return new String(bytes, StandardCharsets.UTF_8); }
        };
        DistributedQueue<String> queue = QueueBuilder.<String>builder(client, null, serializer, path).buildQueue();
        queue.start();
        for (int i = 0; i < rounds; i++) {
            queue.put("java-" + i);
            note("put-java-" + i);
        }
        say("DONE");
        queue.close();
        client.close();
    }
}
