import Link from "next/link";

export default function NotFound() {
  return (
    <main className="flex min-h-full flex-col items-center justify-center gap-2 p-8 text-center">
      <h1 className="text-xl font-semibold">Not found</h1>
      <Link href="/" className="text-sm text-indigo-600 underline">
        Back to the boards
      </Link>
    </main>
  );
}
