package org.finsent.serve;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The page in a real browser: headless Chromium driven by Selenium types a sentence, clicks Analyze (and uses
 * Ctrl+Enter), and must show what the API answers for that sentence. Screenshots go to
 * {@code finsent-app/target/serve-browser-*.png}.
 *
 * <p>Needs Debian's {@code chromium} and {@code chromium-driver} (.ci/run installs them). Without them the test is
 * skipped on a user's machine, but fails under CI ({@code CI=true}), where a skip would hide a broken install.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BrowserTest {
    private static SentimentServer server;
    private static URI base;
    private static ChromeDriver browser;

    private static Path find(String envVar, String... names) {
        String env = System.getenv(envVar);
        if (env != null && !env.isBlank()) return Path.of(env);
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            for (String n : names) {
                Path p = Path.of(dir, n);
                if (Files.isExecutable(p)) return p;
            }
        }
        return null;
    }

    @BeforeAll
    static void start() throws Exception {
        Path chromium = find("CHROME_BIN", "chromium", "chromium-browser", "google-chrome");
        Path driver = find("CHROMEDRIVER", "chromedriver");
        if (chromium == null || driver == null) {
            String why = "headless browser test needs chromium and chromedriver on PATH (Debian: apt-get install chromium "
                    + "chromium-driver); found chromium=" + chromium + ", chromedriver=" + driver;
            if ("true".equals(System.getenv("CI"))) fail(why + " — CI must install them (.ci/run)");
            assumeTrue(false, why);
        }
        server = new SentimentServer(new SentimentService(ServeFixtures.model(), SentimentService.Limits.DEFAULTS),
                SentimentServer.Options.loopback(0));
        base = server.start();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=900,1000", "--lang=en-US");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) browser.quit();
        if (server != null) server.close();
    }

    private static WebDriverWait waiting() {
        return new WebDriverWait(browser, Duration.ofSeconds(30));
    }

    private static void screenshot(String name) throws Exception {
        Path out = Path.of("target", "serve-browser-" + name + ".png");
        Files.createDirectories(out.getParent());
        Files.write(out, browser.getScreenshotAs(OutputType.BYTES));
        System.out.println("screenshot: " + out.toAbsolutePath());
    }

    /** What the page must show for {@code text}: the model's own prediction, as the page formats it. */
    private static void assertShows(String text) {
        var p = ServeFixtures.model().predict().apply(List.of(text)).get(0);
        WebElement label = browser.findElement(By.id("label"));
        assertEquals(p.label(), label.getText().toLowerCase(Locale.ROOT));
        assertTrue(label.getAttribute("class").contains(p.label()), "the label is coloured by class: " + label.getAttribute("class"));
        assertEquals(String.format(Locale.ROOT, "%.1f %%", 100 * p.confidence()), browser.findElement(By.id("confidence")).getText());
        List<WebElement> bars = browser.findElements(By.cssSelector("#bars .bar"));
        assertEquals(ServeFixtures.LABELS.size(), bars.size(), "a bar per class");
        for (int k = 0; k < bars.size(); k++) assertEquals(ServeFixtures.LABELS.get(k), bars.get(k).getAttribute("data-label"));
    }

    @Test
    void typeClickAndSeeTheLabel() throws Exception {
        browser.get(base.toString());
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("model-name"), "tiny-bert-test"));
        WebElement box = browser.findElement(By.id("text"));

        box.sendKeys(ServeFixtures.POSITIVE);
        browser.findElement(By.id("analyze")).click();
        waiting().until(ExpectedConditions.textMatches(By.id("label"), Pattern.compile("(?i)positive"))); // CSS capitalizes
        assertShows(ServeFixtures.POSITIVE);

        box.clear();
        box.sendKeys(ServeFixtures.NEGATIVE);
        box.sendKeys(Keys.chord(Keys.CONTROL, Keys.ENTER)); // the keyboard shortcut
        waiting().until(ExpectedConditions.textMatches(By.id("label"), Pattern.compile("(?i)negative")));
        assertShows(ServeFixtures.NEGATIVE);
        List<WebElement> history = browser.findElements(By.cssSelector("#history li"));
        assertEquals(2, history.size(), "recent analyses, newest first");
        assertTrue(history.get(0).getText().toLowerCase(Locale.ROOT).startsWith("negative")
                        && history.get(1).getText().toLowerCase(Locale.ROOT).startsWith("positive"),
                history.get(0).getText() + " / " + history.get(1).getText());
        screenshot("result");

        box.clear();
        box.sendKeys("   ");
        browser.findElement(By.id("analyze")).click();
        WebElement error = browser.findElement(By.id("error"));
        waiting().until(ExpectedConditions.visibilityOf(error));
        assertEquals("Type a sentence first.", error.getText());

        // a failure the page can only learn from the network: the service is gone
        server.close();
        box.clear();
        box.sendKeys(ServeFixtures.POSITIVE);
        browser.findElement(By.id("analyze")).click();
        waiting().until(ExpectedConditions.textToBe(By.id("error"), "The service cannot be reached."));
        screenshot("error");
        server = null;
    }
}
