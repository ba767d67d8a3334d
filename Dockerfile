# The harness image: the official Locust image with locust-chaos installed (its plugin, presets and the
# reference systems). docker-compose.yml runs the Locust master and workers from it, and the reference shop's
# API and worker too, so the shop's code is built into an image once instead of pip-installed at every start.
#   docker build -t locust-chaos .
FROM locustio/locust:2.32.1
USER root
COPY . /src/locust-chaos
RUN pip install --no-cache-dir /src/locust-chaos && cp -r /src/locust-chaos/locust_chaos_systems/locustfiles /home/locust/locustfiles \
    && rm -rf /src/locust-chaos
USER locust
WORKDIR /home/locust
ENTRYPOINT []
CMD ["locust-chaos", "--help"]
