# The streams app's images, built from the Maven build (context: the repository root).
#
#   docker build -f docker/streams-app.Dockerfile --target cpu -t mqdet/streams-app:latest-cpu .
#   docker build -f docker/streams-app.Dockerfile --target gpu -t mqdet/streams-app:latest-gpu .
#
# Stages: build (Maven, JDK 17) -> cpu (JRE 17; libtorch for CPU from the pytorch-native-cpu jar) and
# gpu (PyTorch 2.7.1 + CUDA 12.8 base image; DJL uses its libtorch through PYTORCH_LIBRARY_PATH).
# Either image starts with nothing to download: ai.djl.offline=true, and the native libraries are extracted into
# DJL_CACHE_DIR while the image is built (EngineWarmUp), which also proves DJL can load them.
# Stages are ordered so that the classic builder (no BuildKit, e.g. Testcontainers) builds "cpu" without
# pulling the large GPU base image.

ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17
ARG JRE_IMAGE=eclipse-temurin:17-jre
ARG PYTORCH_IMAGE=pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime

FROM ${MAVEN_IMAGE} AS build
WORKDIR /src
COPY . .
# The module and what it builds on, then its runtime class path as jars in /app/lib. The CPU libtorch jar goes to
# /app/lib-cpu: the gpu image leaves it out and loads the CUDA libtorch of its base image instead.
# The demo producer's client library and scenes go to /app/demo, outside the app's class path.
RUN mvn -B -q -DskipTests install -pl streams-app,pipeline-client -am \
 && mvn -B -q dependency:copy-dependencies -pl streams-app -DincludeScope=runtime -DoutputDirectory=/app/lib \
 && cp streams-app/target/streams-app-*.jar /app/lib/ \
 && mkdir -p /app/lib-cpu /app/tools /app/demo/lib \
 && mv /app/lib/pytorch-native-cpu-*.jar /app/lib-cpu/ \
 && cp pipeline-client/target/pipeline-client-*.jar /app/demo/lib/ \
 && javac -d /app/tools -cp '/app/lib/*' docker/tools/EngineWarmUp.java \
 && javac -d /app/demo -cp '/app/lib/*:/app/demo/lib/*' docker/demo-producer/DemoProducer.java \
 && cp -r models/synth-eval /app/demo/synth-eval

FROM ${JRE_IMAGE} AS cpu
# The user's home (/app) stays root's: everything the app writes has a variable below that points into a folder
# handed to the user here (ImageEnvironmentTest runs the app that way; ComposeFirstStartTest checks the paths).
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app mqdet \
 && mkdir -p /var/lib/mqdet/streams /var/lib/mqdet/models /app/djl-cache && chown -R mqdet /var/lib/mqdet /app/djl-cache
COPY --from=build /app /app
# MQDET_MODEL_CACHE: where the shipped model package is unpacked (default ~/.cache, not writable here).
# GOMP_SPINCOUNT: libtorch's OpenMP threads spin longer at barriers before sleeping; measured here (./mqdet bench,
# README "Measured") it made CPU inference about 29% faster. MALLOC_ARENA_MAX bounds glibc's arenas.
ENV DJL_CACHE_DIR=/app/djl-cache \
    MQDET_MODEL_CACHE=/var/lib/mqdet/models \
    MQDET_MODEL_DEVICE=cpu \
    GOMP_SPINCOUNT=300000 \
    MALLOC_ARENA_MAX=2 \
    KAFKA_STATE_DIR=/var/lib/mqdet/streams
USER mqdet
RUN java -Dai.djl.offline=true -cp '/app/lib/*:/app/lib-cpu/*:/app/tools' EngineWarmUp cpu
WORKDIR /app
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=12 \
  CMD curl -fsS -o /dev/null http://localhost:8080/health/ready || exit 1
ENTRYPOINT ["java", "-Dai.djl.offline=true", "-cp", "/app/lib/*:/app/lib-cpu/*", "dev.mqdet.streams.StreamsMain"]

# The demo producer (compose service demo-producer): the cpu image with another entry point, under its own image
# name, so that no two services build one tag (Compose builds services in parallel and refuses the second).
FROM cpu AS demo
ENTRYPOINT ["java", "-cp", "/app/lib/*:/app/lib-cpu/*:/app/demo/lib/*:/app/demo", "DemoProducer"]
HEALTHCHECK NONE

# Untested on the machines this project is developed on (no Docker, no GPU): see docs/operations.md.
FROM ${JRE_IMAGE} AS jre
FROM ${PYTORCH_IMAGE} AS gpu
ENV JAVA_HOME=/opt/java/openjdk
ENV PATH="${JAVA_HOME}/bin:${PATH}"
COPY --from=jre /opt/java/openjdk /opt/java/openjdk
# DJL 0.36's pytorch-jni 2.7.1 ships JNI for linux-x86_64 flavours "cpu" and "cu128" only, so the base image must
# be PyTorch 2.7.1 built for CUDA 12.8 (C++11 ABI). The check fails the build when the image has anything else.
# MQDET_CUDA_RUNTIME_PATH: the pip package folder that holds libcudart.so.12, the only copy in this image. DJL's GPU
# count finds cudart through JNA's search path, which knows no such folder: the entry point names it in
# jna.library.path (ComposeFirstStartTest checks that the two agree).
ENV PYTORCH_LIBRARY_PATH=/opt/conda/lib/python3.11/site-packages/torch/lib \
    PYTORCH_VERSION=2.7.1 \
    PYTORCH_FLAVOR=cu128 \
    MQDET_CUDA_RUNTIME_PATH=/opt/conda/lib/python3.11/site-packages/nvidia/cuda_runtime/lib \
    DJL_CACHE_DIR=/app/djl-cache \
    MQDET_MODEL_CACHE=/var/lib/mqdet/models \
    MQDET_MODEL_DEVICE=gpu \
    GOMP_SPINCOUNT=300000 \
    MALLOC_ARENA_MAX=2 \
    KAFKA_STATE_DIR=/var/lib/mqdet/streams
RUN python -c "import os, torch; lib = os.path.join(os.path.dirname(torch.__file__), 'lib'); \
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cxx11abi', torch.compiled_with_cxx11_abi(), 'lib', lib); \
assert torch.__version__.startswith('2.7.1'), torch.__version__; \
assert torch.version.cuda == '12.8', torch.version.cuda; \
assert torch.compiled_with_cxx11_abi(); \
assert os.path.realpath(lib) == os.path.realpath(os.environ['PYTORCH_LIBRARY_PATH']), 'set PYTORCH_LIBRARY_PATH to ' + lib; \
assert os.path.isfile(os.path.join(lib, 'libtorch.so')); \
cudart = os.path.join(os.path.dirname(os.path.dirname(torch.__file__)), 'nvidia', 'cuda_runtime', 'lib'); \
assert os.path.realpath(cudart) == os.path.realpath(os.environ['MQDET_CUDA_RUNTIME_PATH']), 'set MQDET_CUDA_RUNTIME_PATH to ' + cudart; \
assert os.path.isfile(os.path.join(cudart, 'libcudart.so.12'))" \
 && apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app mqdet \
 && mkdir -p /var/lib/mqdet/streams /var/lib/mqdet/models /app/djl-cache && chown -R mqdet /var/lib/mqdet /app/djl-cache
COPY --from=build /app/lib /app/lib
COPY --from=build /app/tools /app/tools
USER mqdet
# Checks, without loading anything, that the libtorch files and DJL's cu128 JNI are there. Loading them cannot be done
# while the image is built: DJL loads libcaffe2_nvrtc.so eagerly, which needs the driver's libcuda.so.1, and the NVIDIA
# runtime mounts that only into a running container. The engine loads at the container's start, with the driver.
RUN java -Dai.djl.offline=true -cp '/app/lib/*:/app/tools' EngineWarmUp gpu
WORKDIR /app
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=12 \
  CMD curl -fsS -o /dev/null http://localhost:8080/health/ready || exit 1
ENTRYPOINT ["java", "-Dai.djl.offline=true", "-Djna.library.path=/opt/conda/lib/python3.11/site-packages/nvidia/cuda_runtime/lib", \
            "-cp", "/app/lib/*", "dev.mqdet.streams.StreamsMain"]
