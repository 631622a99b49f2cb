// Runs a Pinot table's ingestion on sample Kafka messages, with Pinot's own classes, before the table
// is posted: the table's decoder, each transform function alone (to name the column that fails), then
// the whole TransformPipeline that realtime ingestion runs (filter, transforms, type conversion).
// A transform that throws makes Pinot drop every row it meets, silently; this finds it first.
//
//   java -cp '<pinot>/lib/*' TransformCheck.java <table.json> <schema.json> <messages.json> [...]
//
// One JVM checks every table: the arguments repeat in threes. messages.json: {"<label>": <message
// value as JSON>, ...}. Prints "TABLE <table.json>", then one line per finding, tab-separated:
//   FAIL <label> <column> <function> <error>     a transform (or the pipeline: column "*") threw
//   DROPPED <label> - <filterFunction> -          the table's filter drops this message
//   OK <label>                                    the message becomes a row
// and exits 0; a table that cannot be read is one FAIL line with column "*" and function "config".

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.apache.pinot.segment.local.function.FunctionEvaluatorFactory;
import org.apache.pinot.segment.local.segment.creator.TransformPipeline;
import org.apache.pinot.segment.local.utils.IngestionUtils;
import org.apache.pinot.spi.config.table.TableConfig;
import org.apache.pinot.spi.config.table.ingestion.TransformConfig;
import org.apache.pinot.spi.data.Schema;
import org.apache.pinot.spi.data.readers.GenericRow;
import org.apache.pinot.spi.stream.StreamMessageDecoder;
import org.apache.pinot.spi.utils.JsonUtils;

public class TransformCheck {
  public static void main(String[] args) throws Exception {
    for (int i = 0; i + 2 < args.length; i += 3) {
      System.out.println("TABLE\t" + args[i]);
      try {
        check(args[i], args[i + 1], args[i + 2]);
      } catch (Exception e) {
        System.out.println(String.join("\t", "FAIL", "-", "*", "config", oneLine(e)));
      }
    }
  }

  private static void check(String tablePath, String schemaPath, String messagesPath) throws Exception {
    TableConfig table = JsonUtils.stringToObject(Files.readString(new File(tablePath).toPath()), TableConfig.class);
    Schema schema = Schema.fromFile(new File(schemaPath));
    JsonNode messages = JsonUtils.stringToJsonNode(Files.readString(new File(messagesPath).toPath()));
    Map<String, String> stream = table.getIndexingConfig().getStreamConfigs();
    Set<String> fields = IngestionUtils.getFieldsForRecordExtractor(table.getIngestionConfig(), schema);
    StreamMessageDecoder<byte[]> decoder = (StreamMessageDecoder<byte[]>) Class
        .forName(stream.get("stream.kafka.decoder.class.name")).getDeclaredConstructor().newInstance();
    decoder.init(new HashMap<>(), fields, stream.get("stream.kafka.topic.name"));
    TransformPipeline pipeline = new TransformPipeline(table, schema);

    for (Iterator<Map.Entry<String, JsonNode>> it = messages.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> message = it.next();
      String label = message.getKey();
      GenericRow decoded = decoder.decode(message.getValue().toString().getBytes(StandardCharsets.UTF_8),
          new GenericRow());
      boolean failed = false;
      if (table.getIngestionConfig() != null && table.getIngestionConfig().getTransformConfigs() != null) {
        for (TransformConfig transform : table.getIngestionConfig().getTransformConfigs()) {
          try {
            FunctionEvaluatorFactory.getExpressionEvaluator(transform.getTransformFunction()).evaluate(decoded);
          } catch (Exception e) {
            failed = true;
            System.out.println(String.join("\t", "FAIL", label, transform.getColumnName(),
                transform.getTransformFunction(), oneLine(e)));
          }
        }
      }
      TransformPipeline.Result result = new TransformPipeline.Result();
      try {
        pipeline.processRow(decoded, result);
      } catch (Exception e) {
        failed = true;
        System.out.println(String.join("\t", "FAIL", label, "*", "ingestion", oneLine(e)));
        continue;
      }
      if (result.getTransformedRows().isEmpty()) {
        System.out.println(String.join("\t", "DROPPED", label, "-",
            table.getIngestionConfig().getFilterConfig() == null ? "-"
                : table.getIngestionConfig().getFilterConfig().getFilterFunction(), "-"));
      } else if (!failed) {
        System.out.println("OK\t" + label);
      }
    }
  }

  private static String oneLine(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = root.getClass().getSimpleName() + ": " + root.getMessage();
    return text.replace('\t', ' ').replace('\n', ' ');
  }
}
