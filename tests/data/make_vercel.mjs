// Vercel AI SDK telemetry, recorded by the OTel-JS SDK: run by make_vercel.py (which starts the
// local OpenAI server and passes its URL) from a folder where these packages are installed.
// Writes the spans two ways: the ReadableSpan fields as JSON (what OTel-JS test suites dump)
// and the same spans through @opentelemetry/otlp-transformer's JSON serializer (OTLP/JSON).
import { writeFileSync } from "node:fs";
import { embed, generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";

// Without a context manager every span would be a root: the SDK nests spans through context.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const [baseURL, outDir] = process.argv.slice(2);
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ "service.name": "fixtures-vercel" }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer("ai");
const telemetry = { isEnabled: true, tracer, metadata: { userId: "user-3", sessionId: "s-3" } };
const openai = createOpenAI({ baseURL, apiKey: "sk-local" });

await generateText({
  model: openai.chat("gpt-4o-mini"),
  system: "Be short.",
  prompt: "Write a haiku about ducks.",
  experimental_telemetry: { ...telemetry, functionId: "haiku" },
});
await generateText({
  model: openai.chat("gpt-4o-mini"),
  prompt: "Weather in Paris?",
  tools: {
    get_weather: tool({
      description: "get weather of a city",
      inputSchema: jsonSchema({
        type: "object",
        properties: { city: { type: "string" } },
        required: ["city"],
      }),
      execute: async ({ city }) => `rainy in ${city}, 14°C`,
    }),
  },
  stopWhen: stepCountIs(2),
  experimental_telemetry: { ...telemetry, functionId: "weather" },
});
const stream = streamText({
  model: openai.chat("gpt-4"),
  prompt: "Say this is a test",
  experimental_telemetry: telemetry,
});
for await (const _ of stream.textStream) {
}
await embed({
  model: openai.embedding("text-embedding-3-small"),
  value: "sunny day",
  experimental_telemetry: telemetry,
});
await provider.forceFlush();

const spans = exporter.getFinishedSpans();
const readable = spans.map((s) => ({
  name: s.name,
  kind: s.kind,
  spanContext: s.spanContext(),
  parentSpanContext: s.parentSpanContext,
  startTime: s.startTime,
  endTime: s.endTime,
  duration: s.duration,
  attributes: s.attributes,
  status: s.status,
  events: s.events,
  links: s.links,
  ended: s.ended,
  resource: { attributes: s.resource.attributes },
  instrumentationScope: s.instrumentationScope,
}));
writeFileSync(`${outDir}/ai-sdk.readable-spans.json`, JSON.stringify(readable, null, 1) + "\n");
const otlp = new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans));
writeFileSync(`${outDir}/ai-sdk.otlp.json`, JSON.stringify(JSON.parse(otlp), null, 1) + "\n");
