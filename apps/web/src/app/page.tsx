export default function Home() {
  return <main>agentboard</main>;
}
