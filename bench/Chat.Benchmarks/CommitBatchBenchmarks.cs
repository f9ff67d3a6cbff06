using BenchmarkDotNet.Attributes;
using Chat.Core.Storage;
using Chat.Storage.Sqlite;

namespace Chat.Benchmarks;

/// <summary>
/// One group commit of the SQLite store, as the committer calls it: <see cref="SqliteChatStore.AppendAsync"/> of a batch of
/// 100-byte direct messages between random pairs of users, in one transaction with the production PRAGMAs (WAL,
/// synchronous=FULL: an fsync per commit) on a database file in the temp folder. Each batch size runs in its own process
/// on a fresh database, warmed up first so that the chats exist and the pages are cached.
/// </summary>
[MemoryDiagnoser]
public class CommitBatchBenchmarks
{
    private const int Pairs = 1000;
    private static readonly string Content = new('x', 100);

    private readonly Random _random = new(1);
    private string _dir = null!;
    private SqliteChatStore _store = null!;
    private string[] _users = null!;
    private long _next;

    [Params(1, 64, 512)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "chat-bench-" + Guid.NewGuid().ToString("N"));
        _store = new SqliteChatStore(Path.Combine(_dir, "chat.db"));
        _users = Enumerable.Range(0, Pairs * 2).Select(_ => Fixtures.NewUserId()).ToArray();
        // Warm-up: one message per pair creates every chat, so the benchmark measures appends, not chat creation.
        for (int done = 0; done < Pairs; done += 100)
            _store.AppendAsync(Enumerable.Range(done, 100).Select(p => Message(p)).ToList(), CancellationToken.None).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Description = "SQLite AppendAsync, one batch")]
    public Task<IReadOnlyList<AppendResult>> Append()
    {
        var batch = new List<NewMessage>(Batch);
        for (int i = 0; i < Batch; i++) batch.Add(Message(_random.Next(Pairs)));
        return _store.AppendAsync(batch, CancellationToken.None);
    }

    private NewMessage Message(int pair) =>
        Fixtures.DirectMessage(_users[2 * pair], _users[(2 * pair) + 1], "c" + _next++, Content);
}
