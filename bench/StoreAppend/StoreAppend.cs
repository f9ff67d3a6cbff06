#:project ../../src/Chat.Storage.Sqlite/Chat.Storage.Sqlite.csproj
#:property Configuration=Release
// The SQLite store's group commit alone, without a server: how much CPU, time and disk writing one message costs.
//   dotnet run bench/StoreAppend/StoreAppend.cs [batch=30] [pairs=5000] [messages=20000]
// Direct messages between random pairs of users (every message lands on a random chat, as in the `direct` scenario),
// appended in batches of the given size on a fresh database in the temp folder.
// bench/Chat.Benchmarks (CommitBatchBenchmarks) times one commit with allocations; this one adds the CPU time and the
// bytes written per message (/proc/self/io) over a larger, warmer database, which BenchmarkDotNet does not report.
using System.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Storage.Sqlite;

int batch = args.Length > 0 ? int.Parse(args[0]) : 30;
int pairs = args.Length > 1 ? int.Parse(args[1]) : 5000;
int total = args.Length > 2 ? int.Parse(args[2]) : 20_000;
string dir = Path.Combine(Path.GetTempPath(), "chat-store-append-" + Guid.NewGuid().ToString("N"));
var users = Enumerable.Range(0, pairs * 2).Select(_ => Ids.NewId()).ToArray();
var rnd = new Random(1);
long n = 0;

using (var store = new SqliteChatStore(Path.Combine(dir, "chat.db")))
{
    async Task AppendAsync(int messages)
    {
        for (int done = 0; done < messages; done += batch)
        {
            var list = new List<NewMessage>(batch);
            for (int i = 0; i < batch; i++)
            {
                int p = rnd.Next(pairs);
                string a = users[2 * p], b = users[2 * p + 1];
                list.Add(new NewMessage(Ids.NewMessageId(), ChatRef.Direct(a, b), a, "device-" + a, "c" + n++, new string('x', 100), null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), b));
            }
            await store.AppendAsync(list, CancellationToken.None);
        }
    }

    await AppendAsync(pairs * 2); // warm-up: creates most of the chats, fills the page cache
    var self = Process.GetCurrentProcess();
    self.Refresh();
    var cpu = self.TotalProcessorTime;
    long written = WrittenBytes();
    var clock = Stopwatch.StartNew();
    await AppendAsync(total);
    clock.Stop();
    self.Refresh();
    double perMessage(double x) => x / total;
    Console.WriteLine($"batch {batch}, {total:N0} messages over {pairs:N0} chats: " +
        $"{perMessage(clock.Elapsed.TotalMicroseconds):F0} µs/message wall, " +
        $"{perMessage((self.TotalProcessorTime - cpu).TotalMicroseconds):F0} µs/message CPU, " +
        $"{clock.Elapsed.TotalMilliseconds / (total / (double)batch):F2} ms/commit, " +
        $"{perMessage(WrittenBytes() - written) / 1024:F1} KiB written/message (log + checkpoints)");
}
Directory.Delete(dir, recursive: true);

static long WrittenBytes() =>
    long.Parse(File.ReadLines("/proc/self/io").First(l => l.StartsWith("wchar:", StringComparison.Ordinal))["wchar:".Length..]);
