# The exemplar registry's image, built from the Maven build (context: the repository root).
#
#   docker build -f docker/exemplar-registry.Dockerfile -t mqdet/exemplar-registry:latest .

ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17
ARG JRE_IMAGE=eclipse-temurin:17-jre

FROM ${MAVEN_IMAGE} AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests install -pl exemplar-registry -am \
 && mvn -B -q dependency:copy-dependencies -pl exemplar-registry -DincludeScope=runtime -DoutputDirectory=/app/lib \
 && cp exemplar-registry/target/exemplar-registry-*.jar /app/lib/

FROM ${JRE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app mqdet
COPY --from=build /app /app
# In a container the service must listen on every interface (its default is 127.0.0.1).
ENV MQDET_REGISTRY_HOST=0.0.0.0 \
    MQDET_REGISTRY_PORT=8088
USER mqdet
WORKDIR /app
EXPOSE 8088
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=12 \
  CMD curl -fsS -o /dev/null http://localhost:8088/health || exit 1
ENTRYPOINT ["java", "-cp", "/app/lib/*", "dev.mqdet.registry.RegistryMain"]
CMD ["serve"]
