# The browser variant of the sandbox image (`airgap sandbox build --with browser`): the base image plus Debian's
# Chromium, fonts and NSS tools, from the same Debian mirror the base was bootstrapped from (no registry).
# The browser runs as its own user (BROWSER_UID, neither root nor the agent), started by the harness through the
# engine's exec with /opt/airgap/browser.py, which bridges Chromium's DevTools pipe to the exec stream.
ARG BASE=airgap/base:latest
FROM ${BASE}
ARG BROWSER_UID=1500
RUN set -eu; apt-get update; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      chromium fonts-liberation fonts-dejavu-core libnss3-tools; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb; \
    groupadd -g "$BROWSER_UID" browser; useradd -u "$BROWSER_UID" -g "$BROWSER_UID" -M -d /nonexistent -s /usr/sbin/nologin browser
COPY browser.py /opt/airgap/browser.py
# Enterprise policies (read by Debian's Chromium from /etc/chromium/policies/managed, not writable by the agent or the
# browser user): the default search engine is the offline one (https://search.airgap/search?q=...), with no suggest,
# no network prediction (Chromium otherwise preconnects to its default engine, www.google.com, at start and around
# navigations: DNS look-ups the log would show as the agent's egress attempts), no DNS-interception probes, no Safe
# Browsing, translate, spelling service, metrics, sign-in or sync, component updates or leak checks.
COPY chromium-policies.json /etc/chromium/policies/managed/airgap.json
RUN chmod 0644 /opt/airgap/browser.py /etc/chromium/policies/managed/airgap.json
