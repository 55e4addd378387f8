/**
 * The job definition shown as a starting point on the submit page: the demo's DUT (Debian's kernel and
 * a busybox initramfs, prompt `magma-dut:/# `) booted under QEMU with one inline smoke test, so it runs
 * as it is on any lab that has a `qemu` device and reaches the image server.
 * @param imagesUrl base URL serving `vmlinuz` and `initramfs.cpio.gz` (no trailing slash), e.g. the
 *   demo's `http://127.0.0.1:4100` (frontend setting MAGMA_EXAMPLE_IMAGES_URL)
 */
export function exampleDefinition(imagesUrl: string): string {
  const base = imagesUrl.replace(/\/+$/, "");
  return `job_name: smoke test
device_type: qemu
visibility: public
priority: medium
timeouts:
  job: {minutes: 10}
  action: {minutes: 5}
metadata:
  kernel.tree: debian
  kernel.branch: bookworm
actions:
- deploy:
    to: tmpfs
    images:
      kernel:
        image_arg: -kernel {kernel} -append "console=ttyS0,115200 quiet"
        url: ${base}/vmlinuz
      initrd:
        image_arg: -initrd {initrd}
        url: ${base}/initramfs.cpio.gz
- boot:
    method: qemu
    media: tmpfs
    prompts: ['magma-dut:/# ']
- test:
    definitions:
    - from: inline
      name: smoke
      path: inline/smoke.yaml
      repository:
        metadata: {format: Lava-Test Test Definition 1.0, name: smoke}
        run:
          steps:
          - lava-test-case uname --shell uname -a
          - lava-test-case proc-mounted --shell test -d /proc/self
`;
}
