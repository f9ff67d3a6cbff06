using Chat.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chat.Storage.Postgres;

public static class PostgresRegistration
{
    /// <summary>
    /// The PostgreSQL store behind every store interface. At start-up (before the other hosted services) the node
    /// refuses unsafe durability settings and creates/migrates the schema.
    /// </summary>
    public static IServiceCollection AddPostgresChatStore(this IServiceCollection services, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        // Validates the connection string now, with the driver's own message, rather than at the first query.
        _ = new NpgsqlConnectionStringBuilder(connectionString);
        // No logger factory for the driver: it logs every command at Information. Its failures reach us as exceptions.
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        services.AddChatStore(sp => new PostgresChatStore(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ILogger<PostgresChatStore>>()));
        // Hosted services start in registration order, and storage is registered before the services that use it.
        services.AddHostedService<PostgresStartup>();
        return services;
    }

    private sealed class PostgresStartup(PostgresChatStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
