import java.lang.reflect.Constructor;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pinot.segment.local.utils.HashUtils;
import org.apache.pinot.spi.config.table.HashFunction;
import org.apache.pinot.spi.data.readers.PrimaryKey;
import org.openjdk.jol.info.GraphLayout;
import org.openjdk.jol.vm.VM;

/**
 * Heap bytes per key of a Pinot 0.11 upsert map (ConcurrentMapPartitionUpsertMetadataManager's
 * ConcurrentHashMap<Object, RecordLocation>), measured with JOL on Pinot's own classes; run by
 * benchmarks/upsert_key_size.py. Args: the number of keys. Prints "#"-lines (the VM's layout) and
 * one tab-separated line per key shape and hash function: columns, hash, then bytes per key of the
 * key object, the RecordLocation (with its boxed comparison value) and the map's node and table.
 */
public class UpsertKeySize {
  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[0]);
    for (String line : VM.current().details().split("\n")) {
      System.out.println("# " + line);
    }
    // The map's value class is package-private: built through its constructor, as Pinot does.
    Constructor<?> location = Class.forName(
        "org.apache.pinot.segment.local.upsert.ConcurrentMapPartitionUpsertMetadataManager$RecordLocation")
        .getDeclaredConstructors()[0];
    location.setAccessible(true);
    for (int columns = 1; columns <= 2; columns++) {
      for (HashFunction hash : HashFunction.values()) {
        Random random = new Random(42);
        Object[] keys = new Object[n];
        Object[] locations = new Object[n];
        ConcurrentHashMap<Object, Object> map = new ConcurrentHashMap<>();  // not presized, as in Pinot
        for (int i = 0; i < n; i++) {
          // Boxed as Pinot boxes column values (Long.valueOf: -128..127 shared): ids from a sequence,
          // customer_id in 1..500 as the generator makes them, the comparison column an LSN.
          Object[] values = columns == 1 ? new Object[]{(long) i + 1}
              : new Object[]{(long) i + 1, (long) (1 + random.nextInt(500))};
          keys[i] = HashUtils.hashPrimaryKey(new PrimaryKey(values), hash);
          locations[i] = location.newInstance(null, i, (Comparable<Long>) (5_000_000_000L + 200L * i));
          map.put(keys[i], locations[i]);
        }
        if (map.size() != n) {
          throw new IllegalStateException(hash + ": " + map.size() + " distinct keys of " + n);
        }
        long keyBytes = GraphLayout.parseInstance(keys).totalSize();
        long locationBytes = GraphLayout.parseInstance(locations).totalSize();
        long mapBytes = GraphLayout.parseInstance(map).totalSize() - keyBytes - locationBytes;
        System.out.printf("%d\t%s\t%.2f\t%.2f\t%.2f%n", columns, hash, (double) keyBytes / n,
            (double) locationBytes / n, (double) mapBytes / n);
      }
    }
  }
}
