using Chat.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chat.Storage.Sqlite;

public static class SqliteRegistration
{
    /// <summary>The embedded store (one node) in the database file <paramref name="databasePath"/>, behind every store seam.</summary>
    /// <param name="acceptDataLoss">Start even though the WAL of an unclean shutdown is missing (<c>Chat:AcceptDataLoss</c>).</param>
    public static IServiceCollection AddSqliteChatStore(this IServiceCollection services, string databasePath, bool acceptDataLoss = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        return services.AddChatStore(sp => new SqliteChatStore(databasePath, sp.GetService<ILogger<SqliteChatStore>>(), acceptDataLoss));
    }
}
