# What rendering's acceptance tests run: headless Chromium (axe-core and
# the screenshot), Java 17 for the Nu Html Checker, and the npm packages
# vnu-jar, axe-core and structured-data-testing-tool (pinned in
# .ci/node/package-lock.json). Wrappers in .bin let testtool.Find see them.
if ! command -v chromium >/dev/null || ! command -v java >/dev/null; then
  apt-get update -qq
  apt-get install -y --no-install-recommends chromium default-jre-headless fonts-dejavu-core fonts-liberation >/dev/null
fi
if [ ! -f .ci/node/node_modules/vnu-jar/build/dist/vnu.jar ] \
  || [ ! -f .ci/node/node_modules/axe-core/axe.min.js ] \
  || [ ! -x .ci/node/node_modules/.bin/sdtt ]; then
  # --ignore-scripts: vnu-jar's postinstall would download a Java runtime;
  # the system's Java 17 runs vnu.jar.
  (cd .ci/node && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
fi
mkdir -p .bin
root="$(pwd)"
cat > .bin/vnu <<SH
#!/bin/sh
exec java -Xss16m -jar "$root/.ci/node/node_modules/vnu-jar/build/dist/vnu.jar" "\$@"
SH
cat > .bin/sdtt <<SH
#!/bin/sh
exec node "$root/.ci/node/node_modules/structured-data-testing-tool/bin/cli.js" "\$@"
SH
chmod +x .bin/vnu .bin/sdtt
ln -sf "$root/.ci/node/node_modules/axe-core/axe.min.js" .bin/axe.min.js
