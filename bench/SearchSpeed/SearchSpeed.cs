#:project ../../src/Chat.Storage.Sqlite/Chat.Storage.Sqlite.csproj
#:project ../../src/Chat.Storage.Postgres/Chat.Storage.Postgres.csproj
#:property Configuration=Release
// Search speed at scale (issue 13): p50/p95 of one-word, two-word and prefix queries for a user in 20 chats and one
// in 500, over a store holding [messages=1,000,000] messages across [chats=10,000] chats.
//   dotnet run bench/SearchSpeed/SearchSpeed.cs sqlite   [messages] [chats] [queries=200]
//   dotnet run bench/SearchSpeed/SearchSpeed.cs postgres [messages] [chats] [queries=200]   (CHAT_PG; a fresh schema)
// Seeding is bulk: the store creates its schema, then rows go in through one prepared statement in big transactions
// (SQLite, the FTS5 trigger indexing each row) or binary COPY (PostgreSQL, the tsvector trigger firing per row, the
// GIN index dropped during the load and rebuilt after). Texts: 9 words drawn Zipf-like from 20,000 made-up words, so
// a few words are in most messages and most words are rare, as in real chat. Queries go through the store's
// ISearchStore.SearchMessagesAsync with the API's default page (20 + 1 to know has_more).
using System.Diagnostics;
using Chat.Storage.Postgres;
using Chat.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Npgsql;

string engine = args.Length > 0 ? args[0] : "sqlite";
int total = args.Length > 1 ? int.Parse(args[1]) : 1_000_000;
int chats = args.Length > 2 ? int.Parse(args[2]) : 10_000;
int queries = args.Length > 3 ? int.Parse(args[3]) : 200;
int perChat = total / chats;

var rnd = new Random(13);
string[] vocab = MakeVocabulary(20_000, rnd);
double[] cumulative = ZipfCumulative(vocab.Length);
string Text() => string.Join(' ', Enumerable.Range(0, 9).Select(_ => vocab[Pick(cumulative, rnd.NextDouble())]));

// Members: the heavy user in 500 chats, the light user in 20 (disjoint, spread over the whole range), 2 others each.
var order = Enumerable.Range(0, chats).OrderBy(_ => rnd.Next()).ToArray();
var heavyChats = order.Take(Math.Min(500, chats / 2)).ToHashSet();
var lightChats = order.Skip(heavyChats.Count).Take(20).ToHashSet();
string ChatId(int i) => $"g{i:D8}";
string Other(int i, int k) => $"u{(i * 2 + k) % 5000:D6}";
IEnumerable<(string Chat, string User)> Members()
{
    for (int i = 0; i < chats; i++)
    {
        yield return (ChatId(i), Other(i, 0));
        yield return (ChatId(i), Other(i, 1));
        if (heavyChats.Contains(i)) yield return (ChatId(i), "heavy");
        if (lightChats.Contains(i)) yield return (ChatId(i), "light");
    }
}
long t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - total;
// Message i: chat i % chats, so every chat's history spans the whole time range (ts rises with i).
IEnumerable<(string Chat, long Seq, string Id, string Sender, string Client, string Content, long Ts)> Messages()
{
    for (int i = 0; i < total; i++)
    {
        int c = i % chats;
        string sender = Other(c, i & 1);
        yield return (ChatId(c), i / chats + 1, $"m{i:D9}", sender, $"c{i:D9}", Text(), t0 + i);
    }
}

Chat.Core.Search.ISearchStore store;
IAsyncDisposable? cleanup = null;
var seedClock = Stopwatch.StartNew();
string path = Path.Combine(Path.GetTempPath(), "chat-search-speed-" + Guid.NewGuid().ToString("N"), "chat.db");
if (engine == "sqlite")
{
    new SqliteChatStore(path).Dispose(); // creates the schema
    using (var c = new SqliteConnection($"Data Source={path}"))
    {
        c.Open();
        Exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;");
        Exec(c, "BEGIN");
        using (var m = c.CreateCommand())
        {
            m.CommandText = "INSERT INTO chats(chat_id, is_group, created_at, last_seq, updated_at) VALUES(@c, 1, 0, @n, 0)";
            var pc = m.Parameters.Add("@c", SqliteType.Text); m.Parameters.AddWithValue("@n", perChat);
            for (int i = 0; i < chats; i++) { pc.Value = ChatId(i); m.ExecuteNonQuery(); }
            m.CommandText = "INSERT INTO chat_members(chat_id, user_id, joined_at) VALUES(@c, @u, 0)";
            var pu = m.Parameters.Add("@u", SqliteType.Text);
            foreach (var (chat, user) in Members()) { pc.Value = chat; pu.Value = user; m.ExecuteNonQuery(); }
        }
        Exec(c, "COMMIT");
        using var ins = c.CreateCommand();
        ins.CommandText = "INSERT INTO messages(chat_id, seq, message_id, sender_id, sender_device, client_msg_id, content, ts) VALUES(@c, @s, @i, @u, 'd', @k, @t, @ts)";
        var p = "@c @s @i @u @k @t @ts".Split(' ').Select(n => ins.Parameters.Add(n, SqliteType.Text)).ToArray();
        int n = 0;
        Exec(c, "BEGIN");
        foreach (var msg in Messages())
        {
            p[0].Value = msg.Chat; p[1].Value = msg.Seq; p[2].Value = msg.Id; p[3].Value = msg.Sender; p[4].Value = msg.Client; p[5].Value = msg.Content; p[6].Value = msg.Ts;
            ins.ExecuteNonQuery();
            if (++n % 100_000 == 0) { Exec(c, "COMMIT; BEGIN"); Console.Error.WriteLine($"  {n:N0} rows, {seedClock.Elapsed.TotalSeconds:F0} s"); }
        }
        Exec(c, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;");
    }
    var s = new SqliteChatStore(path);
    store = s;
    cleanup = new Cleanup(() => { s.Dispose(); SqliteConnection.ClearAllPools(); Directory.Delete(Path.GetDirectoryName(path)!, true); });
}
else
{
    string schema = "search_speed_" + Guid.NewGuid().ToString("N")[..8];
    string baseCs = Environment.GetEnvironmentVariable("CHAT_PG") ?? throw new InvalidOperationException("set CHAT_PG");
    var admin = NpgsqlDataSource.Create(baseCs);
    await using (var cmd = admin.CreateCommand($"CREATE SCHEMA {schema}")) await cmd.ExecuteNonQueryAsync();
    string cs = new NpgsqlConnectionStringBuilder(baseCs) { SearchPath = schema, CommandTimeout = 0 }.ConnectionString;
    var pg = await PostgresChatStore.OpenAsync(cs);
    await using (var c = new NpgsqlConnection(cs))
    {
        await c.OpenAsync();
        await using (var w = await c.BeginBinaryImportAsync("COPY chats(chat_id, is_group, created_at, last_seq, updated_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (int i = 0; i < chats; i++) { await w.StartRowAsync(); await w.WriteAsync(ChatId(i)); await w.WriteAsync(true); await w.WriteAsync(0L); await w.WriteAsync((long)perChat); await w.WriteAsync(0L); }
            await w.CompleteAsync();
        }
        await using (var w = await c.BeginBinaryImportAsync("COPY chat_members(chat_id, user_id, joined_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (chat, user) in Members()) { await w.StartRowAsync(); await w.WriteAsync(chat); await w.WriteAsync(user); await w.WriteAsync(0L); }
            await w.CompleteAsync();
        }
        string indexDef;
        await using (var cmd = new NpgsqlCommand("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'messages_search'", c))
            indexDef = ((string)(await cmd.ExecuteScalarAsync())!).Replace(" ON ONLY ", " ON ", StringComparison.Ordinal); // ONLY would index no partition
        await using (var cmd = new NpgsqlCommand("DROP INDEX messages_search", c)) await cmd.ExecuteNonQueryAsync();
        await using (var w = await c.BeginBinaryImportAsync("COPY messages(chat_id, seq, message_id, sender_id, sender_device, client_msg_id, content, ts) FROM STDIN (FORMAT BINARY)"))
        {
            int n = 0;
            foreach (var msg in Messages())
            {
                await w.StartRowAsync();
                await w.WriteAsync(msg.Chat); await w.WriteAsync(msg.Seq); await w.WriteAsync(msg.Id); await w.WriteAsync(msg.Sender);
                await w.WriteAsync("d"); await w.WriteAsync(msg.Client); await w.WriteAsync(msg.Content); await w.WriteAsync(msg.Ts);
                if (++n % 100_000 == 0) Console.Error.WriteLine($"  {n:N0} rows, {seedClock.Elapsed.TotalSeconds:F0} s");
            }
            await w.CompleteAsync();
        }
        Console.Error.WriteLine($"  copied, {seedClock.Elapsed.TotalSeconds:F0} s; building the GIN index");
        await using (var cmd = new NpgsqlCommand("SET maintenance_work_mem = '256MB'", c)) await cmd.ExecuteNonQueryAsync();
        await using (var cmd = new NpgsqlCommand(indexDef, c)) await cmd.ExecuteNonQueryAsync();
        await using (var cmd = new NpgsqlCommand("VACUUM ANALYZE messages; ANALYZE chat_members;", c)) await cmd.ExecuteNonQueryAsync();
    }
    store = pg;
    cleanup = new Cleanup(async () =>
    {
        await pg.DisposeAsync();
        await using (var cmd = admin.CreateCommand($"DROP SCHEMA {schema} CASCADE")) await cmd.ExecuteNonQueryAsync();
        await admin.DisposeAsync();
    });
}
Console.WriteLine($"{engine}: seeded {total:N0} messages over {chats:N0} chats in {seedClock.Elapsed.TotalSeconds:F0} s");

// Query words by rank: a mid-frequency word (rank 50), two words (ranks 20 and 200) and a 3-letter prefix of a
// rank-100 word; each query round picks from a small set of such words so no single plan is cached hot.
string[] One(int k) => [vocab[30 + k % 40]];
string[] Two(int k) => [vocab[10 + k % 20], vocab[150 + k % 100]];
string[] Prefix(int k) => [vocab[80 + k % 40][..3]];
foreach (string user in new[] { "light", "heavy" })
    foreach (var (name, words) in new (string, Func<int, string[]>)[] { ("one word", One), ("two words", Two), ("prefix", Prefix) })
    {
        for (int k = 0; k < 5; k++) await store.SearchMessagesAsync(user, words(k), null, null, 21, CancellationToken.None); // warm
        var times = new List<double>(queries);
        int hits = 0;
        for (int k = 0; k < queries; k++)
        {
            var clock = Stopwatch.StartNew();
            var found = await store.SearchMessagesAsync(user, words(k), null, null, 21, CancellationToken.None);
            times.Add(clock.Elapsed.TotalMilliseconds);
            hits += found.Count;
        }
        times.Sort();
        Console.WriteLine($"{engine} {user,-5} ({(user == "heavy" ? heavyChats.Count : lightChats.Count)} chats) {name,-9}: " +
            $"p50 {times[times.Count / 2]:F1} ms, p95 {times[(int)(times.Count * 0.95)]:F1} ms, max {times[^1]:F1} ms, {hits / (double)queries:F1} results/query");
    }
await cleanup.DisposeAsync();

static void Exec(SqliteConnection c, string sql)
{
    using var cmd = c.CreateCommand();
    cmd.CommandText = sql;
    cmd.ExecuteNonQuery();
}

static string[] MakeVocabulary(int count, Random rnd)
{
    string[] syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "se", "vo", "di", "pa", "gu", "fe", "zo", "bi", "ha", "jo", "wu", "ye", "xi", "qu"];
    var words = new HashSet<string>();
    while (words.Count < count)
        words.Add(string.Concat(Enumerable.Range(0, 2 + rnd.Next(3)).Select(_ => syllables[rnd.Next(syllables.Length)])));
    return [.. words];
}

static double[] ZipfCumulative(int n)
{
    var c = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) c[i] = sum += 1.0 / (i + 1);
    for (int i = 0; i < n; i++) c[i] /= sum;
    return c;
}

static int Pick(double[] cumulative, double u)
{
    int i = Array.BinarySearch(cumulative, u);
    return i >= 0 ? i : Math.Min(~i, cumulative.Length - 1);
}

internal sealed class Cleanup(Func<ValueTask> run) : IAsyncDisposable
{
    public Cleanup(Action run) : this(() => { run(); return ValueTask.CompletedTask; }) { }
    public ValueTask DisposeAsync() => run();
}
