# Multi-stage build of the chat server (docs/deploy.md "Containers"; not exercised by CI: no container engine runs there).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Chat.Server -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# The image's non-root user ("app", uid 1654); the data folder is a volume it owns.
RUN mkdir -p /data && chown app:app /data && chmod 0700 /data
USER app
VOLUME /data
ENV Chat__DataDir=/data \
    ASPNETCORE_URLS=http://0.0.0.0:8080
EXPOSE 8080
# No HEALTHCHECK: the runtime image has no curl or wget; let the orchestrator probe GET /healthz (200 healthy, 503 not).
ENTRYPOINT ["dotnet", "Chat.Server.dll"]
