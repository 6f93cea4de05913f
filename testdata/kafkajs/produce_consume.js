// Produces one record with kafkajs over SASL PLAIN and consumes it back in a
// fresh consumer group. Used by cmd/telebridge's TestKafkajsAgainstDemoBroker.
// usage: node produce_consume.js BROKER USER PASSWORD TOPIC
// Exit 0 and one JSON line {"produced":...,"consumed":...} on success; exit 1
// with the kafkajs error on stderr otherwise.
const { Kafka, logLevel } = require('kafkajs');

const [broker, username, password, topic] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'telebridge-ci',
  brokers: [broker],
  ssl: false,
  sasl: { mechanism: 'plain', username, password },
  logLevel: logLevel.NOTHING,
  retry: { retries: 2 },
});

async function main() {
  const value = `kafkajs-${process.pid}-${Date.now()}`;
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'k', value }] });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `telebridge-ci-${process.pid}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  try {
    const consumed = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no record consumed within 30 s')), 30000);
      consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value.toString() === value) {
            clearTimeout(timer);
            resolve(message.value.toString());
          }
        },
      }).catch(reject);
    });
    console.log(JSON.stringify({ produced: value, consumed }));
  } finally {
    await consumer.disconnect();
  }
}

main().catch((e) => {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
});
